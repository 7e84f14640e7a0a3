import pytest
from pydantic import ValidationError

from core.settings import PLACEHOLDER_SECRET_KEY, Environment, Settings


def test_reads_prefixed_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ATELIER_DATABASE_URL", "postgresql+asyncpg://u@h/db")
    monkeypatch.setenv("ATELIER_TELEGRAM_API_BASE", "http://127.0.0.1:9999")
    settings = Settings(_env_file=None)
    assert settings.database_url == "postgresql+asyncpg://u@h/db"
    assert settings.telegram_api_base == "http://127.0.0.1:9999"


def test_reads_dotenv_file(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ATELIER_PUBLIC_BASE_URL", raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("ATELIER_PUBLIC_BASE_URL=https://atelier.example\n")
    assert Settings(_env_file=env_file).public_base_url == "https://atelier.example"


@pytest.mark.parametrize("secret", [PLACEHOLDER_SECRET_KEY, "secret", "short-but-not-placeholder"])
def test_production_refuses_placeholder_or_short_secret(secret: str) -> None:
    with pytest.raises(ValidationError, match="ATELIER_SECRET_KEY"):
        Settings(_env_file=None, environment=Environment.PRODUCTION, secret_key=secret)


def test_production_accepts_a_real_secret() -> None:
    settings = Settings(_env_file=None, environment="production", secret_key="x" * 48)
    assert settings.environment is Environment.PRODUCTION


@pytest.mark.parametrize("environment", ["dev", "test"])
def test_dev_and_test_allow_the_placeholder(environment: str) -> None:
    settings = Settings(_env_file=None, environment=environment, secret_key=PLACEHOLDER_SECRET_KEY)
    assert settings.secret_key == PLACEHOLDER_SECRET_KEY


def test_unknown_environment_is_refused() -> None:
    with pytest.raises(ValidationError, match="environment"):
        Settings(_env_file=None, environment="staging-ish")
