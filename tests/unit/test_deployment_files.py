"""docker-compose.yml and .env.example, read as files (no Docker engine here): the production
shape issue 19 asks for, and every variable the service reads listed for operators."""

import ast
import re
from pathlib import Path

import pytest
import yaml

from service.config import REPO_ROOT

pytestmark = pytest.mark.unit

APP_SERVICES = ("migrate", "api", "worker", "beat")


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())["services"]


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def test_redis_has_a_password_and_is_not_published(services):
    redis = services["redis"]
    assert "ports" not in redis
    command = " ".join(redis["command"])
    assert re.search(r"--requirepass \"?\$\$REDIS_PASSWORD", command)
    assert "REDIS_PASSWORD" in _environment(redis)
    for name in APP_SERVICES:
        assert re.match(
            r"redis://:\$\{REDIS_PASSWORD[:?}]", _environment(services[name])["REDIS_URL"]
        )


def test_only_the_tls_proxy_is_published(services):
    published = {name for name, service in services.items() if service.get("ports")}
    assert published == {"proxy"}
    assert "443:443" in services["proxy"]["ports"]
    assert services["proxy"]["image"].startswith("caddy")
    caddyfile = (REPO_ROOT / "docker" / "Caddyfile").read_text()
    assert "reverse_proxy api:8000" in caddyfile and "Strict-Transport-Security" in caddyfile
    assert re.search(r"^\s*tls \{\$TONGBAN_TLS:internal\}", caddyfile, re.MULTILINE)
    mounts = services["proxy"]["volumes"]
    assert "./docker/Caddyfile:/etc/caddy/Caddyfile:ro" in mounts


def test_the_api_trusts_one_proxy_hop_and_binds_behind_it(services):
    env = _environment(services["api"])
    assert env["TONGBAN_PROXY_HOPS"] == "1"
    assert env["TONGBAN_ALLOW_PLAIN_HTTP"] == "1" and env["TONGBAN_ENV"] == "production"


def test_only_the_api_keeps_the_http_health_check(services):
    for name in ("migrate", "worker", "beat"):
        assert services[name].get("healthcheck") == {"disable": True}, name
    # The api inherits the image's HEALTHCHECK (GET /healthz); nothing switches it off.
    assert not (services["api"].get("healthcheck") or {}).get("disable")
    assert "/healthz" in (REPO_ROOT / "Dockerfile").read_text()


def test_migrate_runs_as_the_owner_and_the_rest_as_the_app_role(services):
    migrate = _environment(services["migrate"])
    assert migrate["MIGRATION_DATABASE_URL"].startswith(
        "postgresql://tongban_owner:${TONGBAN_OWNER_DB_PASSWORD"
    )
    assert migrate["TONGBAN_APP_ROLE"] == "tongban_app"
    for name in APP_SERVICES:
        env = _environment(services[name])
        assert env["DATABASE_URL"].startswith("postgresql://tongban_app:${TONGBAN_APP_DB_PASSWORD")
        if name != "migrate":
            assert "MIGRATION_DATABASE_URL" not in env, name
            assert "TONGBAN_OWNER_DB_PASSWORD" not in str(services[name]), name


def test_postgres_creates_the_two_roles_at_first_start(services):
    postgres = services["postgres"]
    assert "ports" not in postgres
    assert "./docker/postgres-init:/docker-entrypoint-initdb.d:ro" in postgres["volumes"]
    env = _environment(postgres)
    assert {"TONGBAN_OWNER_DB_PASSWORD", "TONGBAN_APP_DB_PASSWORD", "POSTGRES_PASSWORD"} <= set(env)
    script = (REPO_ROOT / "docker" / "postgres-init" / "10-tongban-roles.sh").read_text()
    app_role = re.search(r'ALTER ROLE :"app" (.*?);', script, re.DOTALL)
    assert app_role is not None
    for attribute in ("NOSUPERUSER", "NOCREATEROLE", "NOCREATEDB"):
        assert attribute in app_role[1]
    assert 'ALTER DATABASE :"db" OWNER TO :"owner"' in script


def _names_in_env_example() -> set[str]:
    text = (REPO_ROOT / ".env.example").read_text()
    return set(re.findall(r"^(?:# )?([A-Z][A-Z0-9_]+)=", text, re.MULTILINE))


def _names_read_by(path: Path) -> set[str]:
    """Environment names in a module: its upper-case string constants (a name like
    TONGBAN_X), which is how config.py and its checks spell every variable they read."""
    tree = ast.parse(path.read_text())
    return {
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.fullmatch(r"(TONGBAN|DATABASE|MIGRATION|REDIS|PG)[A-Z0-9_]*", node.value)
    }


def test_env_example_lists_every_variable_the_service_reads():
    read = _names_read_by(REPO_ROOT / "service" / "config.py") | _names_read_by(
        REPO_ROOT / "service" / "production_checks.py"
    )
    assert {"TONGBAN_DATA_KEY", "DATABASE_URL", "TONGBAN_ALLOW_PLAIN_HTTP"} <= read
    entrypoint = (REPO_ROOT / "docker" / "entrypoint.sh").read_text()
    read |= set(re.findall(r"\$\{([A-Z][A-Z0-9_]+):-", entrypoint)) - {"PYTHON"}
    assert not read - _names_in_env_example(), "add these to .env.example"


def test_env_example_lists_every_variable_compose_reads():
    compose = (REPO_ROOT / "docker-compose.yml").read_text()
    caddyfile = (REPO_ROOT / "docker" / "Caddyfile").read_text()
    read = set(re.findall(r"\$\{([A-Z][A-Z0-9_]+)", compose))
    read |= set(re.findall(r"\{\$([A-Z][A-Z0-9_]+)", caddyfile))
    assert {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "TONGBAN_HOSTNAME"} <= read
    assert not read - _names_in_env_example(), "add these to .env.example"


def test_env_example_leaves_every_secret_empty():
    # Compose refuses an empty `${NAME:?}`, so a copied .env.example cannot start as it is.
    text = (REPO_ROOT / ".env.example").read_text()
    for name in (
        "POSTGRES_PASSWORD",
        "TONGBAN_OWNER_DB_PASSWORD",
        "TONGBAN_APP_DB_PASSWORD",
        "REDIS_PASSWORD",
        "TONGBAN_DATA_KEY",
        "TONGBAN_SECRET_KEY",
        "TONGBAN_CHECKPOINT_KEY",
    ):
        assert re.search(rf"^{name}=$", text, re.MULTILINE), name
