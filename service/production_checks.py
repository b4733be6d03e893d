"""What production refuses to start on: guessable keys, password-less servers, plain public HTTP.

Each check returns the problems it finds as sentences naming the variable, so `load_settings`
can list every problem in one error instead of making an operator fix them one start at a time.
Nothing here reads the environment itself or says anything about development and test runs.
"""

import ipaddress
from collections.abc import Mapping
from urllib.parse import parse_qs, unquote, urlsplit

MIN_KEY_BYTES = 32
# 32 random bytes hold about 30 distinct values and 64 random hex characters all 16; a key
# with fewer than this is mostly one or two characters however long it is.
MIN_DISTINCT_BYTES = 12

# Values that appear in this repository's documentation, examples and tests (and the issue that
# asked for these checks). Most also fail the entropy rules; listing them keeps a copied value
# refused even if those rules are ever relaxed.
KNOWN_DEMO_VALUES = frozenset(
    {
        "...",
        "a" * 32,
        "k" * 32,
        "s" * 40,
        "A" * 43 + "=",  # the base64 of 32 zero bytes
        "change-me",
        "changeme",
    }
)

# gunicorn's bind forms that never leave the machine.
_LOCAL_HOSTS = frozenset({"localhost", "ip6-localhost"})

# Where the image listens when TONGBAN_BIND is not set (docker/entrypoint.sh).
IMAGE_DEFAULT_BIND = "0.0.0.0:8000"


def weak_key_problems(name: str, text: str, value: bytes) -> list[str]:
    """Why a key is too guessable: `text` as configured, `value` the bytes it stands for."""
    if text.strip() in KNOWN_DEMO_VALUES:
        return [f"{name} is a demo or example value from the documentation; generate a new one"]
    if len(value) < MIN_KEY_BYTES:
        return [f"{name} must be at least {MIN_KEY_BYTES} bytes, got {len(value)}"]
    if len(set(value)) == 1:
        return [f"{name} is one byte repeated"]
    period = _period(value)
    if period is not None:
        return [f"{name} repeats a pattern of {period} bytes"]
    if len(set(value)) < MIN_DISTINCT_BYTES:
        return [
            f"{name} has only {len(set(value))} distinct bytes (at least {MIN_DISTINCT_BYTES} "
            "expected of a random key)"
        ]
    return []


def _period(value: bytes) -> int | None:
    """The shortest p <= len/2 with value[i] == value[i + p] throughout, if there is one."""
    for p in range(1, len(value) // 2 + 1):
        if value[p:] == value[:-p]:
            return p
    return None


def database_url_problems(name: str, url: str, environ: Mapping[str, str]) -> list[str]:
    """A PostgreSQL URL must carry a password unless it reaches the server by a unix socket."""
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    if parts.password or query.get("password", [""])[0]:
        return []
    hosts = query.get("host", [])
    netloc_host = unquote(parts.netloc.rpartition("@")[2])
    if hosts and all(h.startswith("/") for h in hosts):
        return []
    if netloc_host.startswith("/"):
        return []
    # No host at all: libpq takes PGHOST, else its default socket directory.
    if not netloc_host and not hosts and (environ.get("PGHOST") or "/").startswith("/"):
        return []
    return [f"{name} has no password (only a unix-socket URL may go without one)"]


def redis_url_problems(name: str, url: str) -> list[str]:
    """A Redis URL must carry a password unless it is a unix socket."""
    parts = urlsplit(url)
    if parts.scheme in ("unix", "redis+socket"):
        return []
    if parts.password or parse_qs(parts.query).get("password", [""])[0]:
        return []
    return [f"{name} has no password: start Redis with requirepass and put it in the URL"]


def bind_problems(bind: str, allow_plain_http: str) -> list[str]:
    """gunicorn speaks plain HTTP: only on loopback or a socket, or behind a TLS proxy."""
    if allow_plain_http not in ("", "0", "1"):
        return [f"TONGBAN_ALLOW_PLAIN_HTTP must be 1 or unset, got {allow_plain_http!r}"]
    if allow_plain_http == "1" or is_local_bind(bind):
        return []
    return [
        f"TONGBAN_BIND={bind} serves plain HTTP beyond this machine; bind 127.0.0.1, or put a "
        "TLS-terminating proxy in front on a private network and set TONGBAN_ALLOW_PLAIN_HTTP=1"
    ]


def is_local_bind(bind: str) -> bool:
    """Whether a gunicorn bind address (host:port, [v6]:port, unix:path) stays on the machine."""
    if bind.startswith("unix:"):
        return True
    host = bind
    if host.startswith("["):
        host = host[1 : host.find("]")] if "]" in host else host[1:]
    elif host.count(":") == 1:
        host = host.partition(":")[0]
    if host.lower() in _LOCAL_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name or an empty host (all interfaces): assume reachable
