"""The production-like stack files stay consistent with the code (no Docker engine here)."""

from pathlib import Path

import yaml

from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def test_compose_file_describes_the_whole_stack() -> None:
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"postgres", "redis", "minio", "api", "worker"} <= set(services)
    for name in ("api", "worker", "migrate"):
        assert services[name]["build"] == "."
        assert services[name]["command"][0] == "atelier"
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown service {dependency}"
    named_volumes = set(compose["volumes"])
    for service in services.values():
        for volume in service.get("volumes", []):
            assert volume.split(":")[0] in named_volumes


def test_compose_and_env_example_only_use_known_settings() -> None:
    known = {f"ATELIER_{name.upper()}" for name in Settings.model_fields}
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    used = {k for k in compose["x-atelier-env"] if k.startswith("ATELIER_")}
    assert used <= known
    example = {
        line.split("=", 1)[0]
        for line in (ROOT / ".env.example").read_text().splitlines()
        if line.startswith("ATELIER_")
    }
    assert example == known, "every setting is documented in .env.example, and nothing else"


def test_dockerfile_copies_every_package() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    for package in (
        "core",
        "tenants",
        "bot",
        "miniapp_api",
        "jobs",
        "devtools",
        "cli",
        "migrations",
    ):
        assert f"COPY {package} ./{package}" in dockerfile
