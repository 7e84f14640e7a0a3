"""Creator panel fixtures: the content tests' studio (two tenants, owners and fans)."""

from tests.miniapp_api.content.conftest import studio  # noqa: F401
