"""Configuration from environment variables only, with safe embedded defaults.

Every variable is listed in the README's configuration table and in .env.example. In production
mode the service refuses to start on a default that is only safe for a laptop, on guessable keys,
on password-less database and Redis URLs and on plain HTTP on a public address
(service/production_checks.py), naming every problem in one error.
"""

import base64
import ipaddress
import os
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from service import production_checks

REPO_ROOT = Path(__file__).resolve().parent.parent


class ConfigError(RuntimeError):
    """The environment does not describe a service that may start."""


@dataclass(frozen=True)
class S3Settings:
    """Where scans go when TONGBAN_FILE_STORE=s3."""

    bucket: str
    endpoint_url: str | None
    region: str | None
    access_key_id: str | None
    secret_access_key: str | None = field(repr=False)
    prefix: str


@dataclass(frozen=True)
class Settings:
    env: str
    database_url: str
    redis_url: str
    var_dir: Path
    data_key: bytes
    secret_key: str
    log_level: str
    staff_token_ttl_hours: int
    outbox_lease_seconds: int
    relay_interval_seconds: float
    delivery_max_attempts: int
    retry_base_seconds: int
    retry_max_seconds: int
    public_lookups_per_minute: int
    accept_limit_days: int
    due_soon_days: int
    rectify_limit_days: int
    supervise_interval_seconds: float
    breaker_threshold: int
    breaker_cooldown_seconds: int
    reconcile_interval_seconds: int
    reconcile_quiet_seconds: int
    stats_partial_seconds: int
    files_dir: Path
    upload_limit_bytes: int
    file_retention_days: int
    file_store: str = "filesystem"
    s3: S3Settings | None = None
    proxy_hops: int = 0
    login_failures: int = 5
    login_window_seconds: int = 900
    metrics_token: str | None = field(default=None, repr=False)
    metrics_allow: tuple[str, ...] = ("127.0.0.0/8", "::1/128")
    lookup_failures: int = 5
    lookup_delay_seconds: int = 30
    lookup_max_delay_seconds: int = 3600
    login_delay_seconds: int = 30
    login_max_delay_seconds: int = 900
    session_idle_minutes: int = 30
    chain_key: bytes = field(default=b"", repr=False)
    migration_database_url: str | None = field(default=None, repr=False)
    # The application's database role, granted its rights after each migration (none: the
    # application connects as the owner, as the embedded development run does).
    app_role: str | None = None
    # The key ring (README, "Keys"): key id -> data key, the current one encrypting; and the
    # lookup key of the blind indexes, when it is not derived from TONGBAN_DATA_KEY.
    data_keys: dict[int, bytes] = field(default_factory=dict, repr=False)
    current_key_id: int = 1
    lookup_key: bytes | None = field(default=None, repr=False)
    # The Ed25519 seed that signs checkpoints, and where they are written (outside the
    # database; README, "Checkpoints").
    checkpoint_key: bytes = field(default=b"", repr=False)
    checkpoint_dir: Path = Path("var/checkpoints")

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL with the psycopg 3 driver named, as SQLAlchemy wants it."""
        return _with_driver(self.database_url)

    @property
    def migration_sqlalchemy_url(self) -> str:
        """The schema owner's URL for migrations (MIGRATION_DATABASE_URL), else the app's."""
        return _with_driver(self.migration_database_url or self.database_url)


def _with_driver(url: str) -> str:
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def _key_file(path: Path, make: bytes) -> bytes:
    """Read a key file, creating it once (atomically, so concurrent starters agree)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path.read_bytes().strip()
    with os.fdopen(fd, "wb") as f:
        f.write(make)
    return make


def _int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ConfigError(f"{name} must be an integer, got {raw!r}") from exc


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment; in production, refuse insecure or missing values."""
    environ = os.environ if environ is None else environ
    env = environ.get("TONGBAN_ENV", "development")
    if env not in ("development", "production", "test"):
        raise ConfigError(f"TONGBAN_ENV must be development, production or test, got {env!r}")
    production = env == "production"
    var_dir = Path(environ.get("TONGBAN_VAR_DIR") or REPO_ROOT / "var")

    missing = [n for n in ("DATABASE_URL", "REDIS_URL") if not environ.get(n)]
    if missing:
        raise ConfigError(
            f"{', '.join(missing)} not set. `make run` starts embedded servers and sets them; "
            "in production point them at your PostgreSQL and Redis."
        )

    # Every refusal is collected, so one failed start names everything there is to fix.
    problems: list[str] = []
    data_keys, current_key_id = _key_ring(environ)
    if environ.get("TONGBAN_DATA_KEY") is None and data_keys and environ.get("TONGBAN_LOOKUP_KEY"):
        # Key 1 retired and the lookup key pinned: TONGBAN_DATA_KEY is no longer needed.
        current = base64.urlsafe_b64encode(data_keys[current_key_id]).decode()
        environ = {**environ, "TONGBAN_DATA_KEY": current}
    data_key = _b64_key(environ, "TONGBAN_DATA_KEY", var_dir / "data.key", production, problems)
    secret_key = _secret_key(environ, var_dir, production, problems)
    # The timeline's HMAC key: kept apart from the data key, which rotates (a chain key that
    # changed would make every earlier link look broken), and never in the database.
    chain_key = _b64_key(environ, "TONGBAN_CHAIN_KEY", var_dir / "chain.key", production, problems)
    # The checkpoints' signing key (an Ed25519 seed): its public key goes to auditors.
    checkpoint_key = _b64_key(
        environ, "TONGBAN_CHECKPOINT_KEY", var_dir / "checkpoint.key", production, problems
    )
    file_store = environ.get("TONGBAN_FILE_STORE") or "filesystem"
    if file_store not in ("filesystem", "s3"):
        raise ConfigError(f"TONGBAN_FILE_STORE must be filesystem or s3, got {file_store!r}")
    s3 = _s3_settings(environ) if file_store == "s3" else None
    if production:
        problems += _production_problems(environ, s3)
    if len(problems) == 1:
        raise ConfigError(problems[0])
    if problems:
        listed = "\n".join(f"- {p}" for p in problems)
        raise ConfigError(f"refusing to start, {len(problems)} problems:\n{listed}")

    return Settings(
        env=env,
        database_url=environ["DATABASE_URL"],
        redis_url=environ["REDIS_URL"],
        var_dir=var_dir,
        data_key=data_key,
        chain_key=chain_key,
        checkpoint_key=checkpoint_key,
        checkpoint_dir=Path(environ.get("TONGBAN_CHECKPOINT_DIR") or var_dir / "checkpoints"),
        migration_database_url=environ.get("MIGRATION_DATABASE_URL") or None,
        app_role=environ.get("TONGBAN_APP_ROLE") or None,
        data_keys=data_keys or {1: data_key},
        current_key_id=current_key_id,
        lookup_key=_optional_key(environ, "TONGBAN_LOOKUP_KEY"),
        secret_key=secret_key,
        log_level=environ.get("TONGBAN_LOG_LEVEL", "INFO").upper(),
        staff_token_ttl_hours=_int(environ, "TONGBAN_STAFF_TOKEN_TTL_HOURS", 12),
        outbox_lease_seconds=_int(environ, "TONGBAN_OUTBOX_LEASE_SECONDS", 60),
        relay_interval_seconds=_int(environ, "TONGBAN_RELAY_INTERVAL_SECONDS", 5),
        delivery_max_attempts=_int(environ, "TONGBAN_DELIVERY_MAX_ATTEMPTS", 10),
        retry_base_seconds=_int(environ, "TONGBAN_RETRY_BASE_SECONDS", 10),
        retry_max_seconds=_int(environ, "TONGBAN_RETRY_MAX_SECONDS", 3600),
        public_lookups_per_minute=_int(environ, "TONGBAN_PUBLIC_LOOKUPS_PER_MINUTE", 10),
        accept_limit_days=_int(environ, "TONGBAN_ACCEPT_LIMIT_DAYS", 5),
        due_soon_days=_int(environ, "TONGBAN_DUE_SOON_DAYS", 2),
        rectify_limit_days=_int(environ, "TONGBAN_RECTIFY_LIMIT_DAYS", 15),
        supervise_interval_seconds=_int(environ, "TONGBAN_SUPERVISE_INTERVAL_SECONDS", 300),
        breaker_threshold=_int(environ, "TONGBAN_BREAKER_THRESHOLD", 5),
        breaker_cooldown_seconds=_int(environ, "TONGBAN_BREAKER_COOLDOWN_SECONDS", 30),
        reconcile_interval_seconds=_int(environ, "TONGBAN_RECONCILE_INTERVAL_SECONDS", 300),
        reconcile_quiet_seconds=_int(environ, "TONGBAN_RECONCILE_QUIET_SECONDS", 1800),
        stats_partial_seconds=_int(environ, "TONGBAN_STATS_PARTIAL_SECONDS", 600),
        files_dir=Path(environ.get("TONGBAN_FILES_DIR") or var_dir / "files"),
        upload_limit_bytes=_int(environ, "TONGBAN_UPLOAD_LIMIT_BYTES", 20 * 1024 * 1024),
        file_retention_days=_int(environ, "TONGBAN_FILE_RETENTION_DAYS", 180),
        file_store=file_store,
        s3=s3,
        proxy_hops=_proxy_hops(environ),
        login_failures=max(_int(environ, "TONGBAN_LOGIN_FAILURES", 5), 1),
        login_window_seconds=max(_int(environ, "TONGBAN_LOGIN_WINDOW_SECONDS", 900), 1),
        metrics_token=_metrics_token(environ),
        metrics_allow=_networks(environ, "TONGBAN_METRICS_ALLOW", ("127.0.0.0/8", "::1/128")),
        lookup_failures=max(_int(environ, "TONGBAN_LOOKUP_FAILURES", 5), 1),
        lookup_delay_seconds=max(_int(environ, "TONGBAN_LOOKUP_DELAY_SECONDS", 30), 1),
        lookup_max_delay_seconds=max(_int(environ, "TONGBAN_LOOKUP_MAX_DELAY_SECONDS", 3600), 1),
        login_delay_seconds=max(_int(environ, "TONGBAN_LOGIN_DELAY_SECONDS", 30), 1),
        login_max_delay_seconds=max(_int(environ, "TONGBAN_LOGIN_MAX_DELAY_SECONDS", 900), 1),
        session_idle_minutes=max(_int(environ, "TONGBAN_SESSION_IDLE_MINUTES", 30), 1),
    )


def _configured_key(
    environ: Mapping[str, str],
    name: str,
    made: tuple[Path, Callable[[], bytes]],
    production: bool,
    problems: list[str],
) -> str | None:
    """The key in variable `name`; outside production, if unset, one made once at the path in
    `made` by its function. None, with the problem appended, when production lacks it."""
    raw = environ.get(name)
    if raw is not None:
        return raw
    if production:
        problems.append(f"{name} must be set in production")
        return None
    path, make = made
    return _key_file(path, make()).decode()


def _b64_key(
    environ: Mapping[str, str], name: str, path: Path, production: bool, problems: list[str]
) -> bytes:
    """The key in variable `name` decoded (base64 of 32 bytes), or made once at `path` outside
    production; problems appended."""
    made = (path, lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)))
    raw = _configured_key(environ, name, made, production, problems)
    if raw is None:
        return b""
    if production and raw.strip() in production_checks.KNOWN_DEMO_VALUES:
        problems += production_checks.weak_key_problems(name, raw, b"")
        return b""
    try:
        key = _decoded_key(raw, name)
    except ConfigError as err:
        problems.append(str(err))
        return b""
    if production:
        problems += production_checks.weak_key_problems(name, raw, key)
    return key


def _secret_key(
    environ: Mapping[str, str], var_dir: Path, production: bool, problems: list[str]
) -> str:
    """TONGBAN_SECRET_KEY (the Flask secret); problems appended."""
    made = (var_dir / "secret.key", lambda: secrets.token_hex(32).encode())
    secret_key = _configured_key(environ, "TONGBAN_SECRET_KEY", made, production, problems)
    if secret_key is None:
        return ""
    if production:
        problems += production_checks.weak_key_problems(
            "TONGBAN_SECRET_KEY", secret_key, secret_key.encode()
        )
        if secret_key == environ.get("TONGBAN_DATA_KEY"):
            problems.append("TONGBAN_SECRET_KEY must differ from TONGBAN_DATA_KEY")
    return secret_key


def _production_problems(environ: Mapping[str, str], s3: S3Settings | None) -> list[str]:
    """What production refuses beyond the keys: password-less servers, plain public HTTP."""
    problems = production_checks.database_url_problems(
        "DATABASE_URL", environ["DATABASE_URL"], environ
    )
    migration_url = environ.get("MIGRATION_DATABASE_URL")
    if migration_url:
        problems += production_checks.database_url_problems(
            "MIGRATION_DATABASE_URL", migration_url, environ
        )
    problems += production_checks.redis_url_problems("REDIS_URL", environ["REDIS_URL"])
    problems += production_checks.bind_problems(
        environ.get("TONGBAN_BIND") or production_checks.IMAGE_DEFAULT_BIND,
        environ.get("TONGBAN_ALLOW_PLAIN_HTTP", ""),
    )
    if s3 is not None and s3.endpoint_url and not s3.endpoint_url.startswith("https://"):
        problems.append("TONGBAN_S3_ENDPOINT_URL must use https in production")
    return problems


def _optional_key(environ: Mapping[str, str], name: str) -> bytes | None:
    """The key in variable `name` (base64 of 32 bytes), or None when it is not set."""
    raw = environ.get(name)
    return _decoded_key(raw, name) if raw else None


def _decoded_key(raw: str, name: str) -> bytes:
    """A key given as base64 of exactly 32 bytes; a ConfigError naming `name` otherwise."""
    try:
        key = base64.urlsafe_b64decode(raw.strip())
    except ValueError as exc:
        raise ConfigError(f"{name} is not valid base64") from exc
    if len(key) != 32:
        raise ConfigError(f"{name} must decode to exactly 32 bytes")
    return key


def _key_ring(environ: Mapping[str, str]) -> tuple[dict[int, bytes], int]:
    """TONGBAN_DATA_KEYS ("2:<base64>,1:<base64>", the first one current), or the file that
    TONGBAN_DATA_KEYS_FILE names (the same, one per line; mounted read-only). Empty when
    neither is set: TONGBAN_DATA_KEY is then key 1, and current."""
    raw = environ.get("TONGBAN_DATA_KEYS")
    path = environ.get("TONGBAN_DATA_KEYS_FILE")
    if not raw and path:
        try:
            raw = Path(path).read_text()
        except OSError as exc:
            raise ConfigError(f"TONGBAN_DATA_KEYS_FILE cannot be read: {exc}") from exc
    if not raw:
        return {}, 1
    ring: dict[int, bytes] = {}
    for entry in raw.replace("\n", ",").replace("\r", "").split(","):
        if not entry.strip():
            continue
        key_id, sep, value = entry.strip().partition(":")
        if not sep or not key_id.isdigit() or not 1 <= int(key_id) <= 255:
            raise ConfigError("TONGBAN_DATA_KEYS entries are <id 1-255>:<base64 of 32 bytes>")
        if int(key_id) in ring:
            raise ConfigError(f"TONGBAN_DATA_KEYS names key {key_id} twice")
        if not value.strip():
            raise ConfigError("TONGBAN_DATA_KEYS has an empty key")
        ring[int(key_id)] = _decoded_key(value, f"TONGBAN_DATA_KEYS key {key_id}")
    if not ring:
        raise ConfigError("TONGBAN_DATA_KEYS has an empty key")
    return ring, next(iter(ring))


def _metrics_token(environ: Mapping[str, str]) -> str | None:
    token = environ.get("TONGBAN_METRICS_TOKEN") or None
    if token is not None and len(token) < 24:
        raise ConfigError("TONGBAN_METRICS_TOKEN must be at least 24 characters")
    return token


def _networks(environ: Mapping[str, str], name: str, default: tuple[str, ...]) -> tuple[str, ...]:
    """A comma-separated list of networks (CIDR), checked here so a typo stops the start."""
    raw = environ.get(name)
    if raw is None:
        return default
    networks = tuple(n.strip() for n in raw.split(",") if n.strip())
    for network in networks:
        try:
            ipaddress.ip_network(network, strict=False)
        except ValueError as exc:
            raise ConfigError(f"{name}: {network!r} is not a network (e.g. 10.0.0.0/8)") from exc
    return networks


def _proxy_hops(environ: Mapping[str, str]) -> int:
    hops = _int(environ, "TONGBAN_PROXY_HOPS", 0)
    if not 0 <= hops <= 5:
        raise ConfigError("TONGBAN_PROXY_HOPS must be between 0 and 5")
    return hops


def _s3_settings(environ: Mapping[str, str]) -> S3Settings:
    bucket = environ.get("TONGBAN_S3_BUCKET")
    if not bucket:
        raise ConfigError("TONGBAN_S3_BUCKET must be set when TONGBAN_FILE_STORE=s3")
    endpoint = environ.get("TONGBAN_S3_ENDPOINT_URL") or None
    prefix = environ.get("TONGBAN_S3_PREFIX", "")
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    return S3Settings(
        bucket=bucket,
        endpoint_url=endpoint,
        region=environ.get("TONGBAN_S3_REGION") or None,
        access_key_id=environ.get("TONGBAN_S3_ACCESS_KEY_ID") or None,
        secret_access_key=environ.get("TONGBAN_S3_SECRET_ACCESS_KEY") or None,
        prefix=prefix,
    )
