"""Staff password login, throttled against guessing: the API and the login page both use it.

Failures are counted in Redis per (username, client address) pair, existing name or not, so
the answer never tells which names exist. After `failures` of them a pair is refused for a
delay that doubles with each further failure (up to a cap), even with the right password; the
count is forgotten `window_seconds` after its last failure. Someone guessing at a name from one
address therefore never locks that user out at their own address. One address failing for many
names is refused too, at `ADDRESS_FACTOR` times the limit, until its window ends.

If Redis is down, logins go on (logged): the password check itself never depends on it.
"""

import hashlib
import logging
from dataclasses import dataclass

import redis
from flask import current_app, request
from sqlalchemy.orm import Session

from service.accounts.credentials import check_staff_password
from service.accounts.models import StaffUser

log = logging.getLogger("tongban.login")
# An address may fail for several people (a service center behind one NAT address).
ADDRESS_FACTOR = 4


@dataclass(frozen=True)
class LoginLimits:
    failures: int
    window_seconds: int
    delay_seconds: int = 30
    max_delay_seconds: int = 900

    @classmethod
    def from_settings(cls, settings) -> "LoginLimits":
        return cls(
            settings.login_failures,
            settings.login_window_seconds,
            settings.login_delay_seconds,
            settings.login_max_delay_seconds,
        )

    def delay_after(self, failures: int) -> int:
        """Seconds a pair is refused after its `failures`-th failure (0 below the limit)."""
        if failures < self.failures:
            return 0
        # The exponent is bounded before shifting: a pair may fail a very long time.
        return min(self.delay_seconds << min(failures - self.failures, 20), self.max_delay_seconds)


class LoginThrottled(Exception):
    """Too many failed logins; try again after `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many failed logins; retry after {retry_after} s")
        self.retry_after = retry_after
        self.minutes = -(-retry_after // 60)  # rounded up, for people
        self.message_zh = f"登录失败次数过多，请 {self.minutes} 分钟后再试。"


@dataclass(frozen=True)
class _Keys:
    pair_count: str
    pair_block: str
    address: str


def _keys(username: str, address: str | None) -> _Keys:
    # The name is hashed: Redis holds no list of names people tried.
    name = hashlib.sha256(username.casefold().encode()).hexdigest()[:32]
    where = address or "unknown"
    return _Keys(
        f"tongban:login-failures:pair:{name}:{where}",
        f"tongban:login-blocked:pair:{name}:{where}",
        f"tongban:login-failures:addr:{where}",
    )


def check_throttle(client: redis.Redis, limits: LoginLimits, username: str, address) -> None:
    """Raise LoginThrottled if this name from this address, or this address, is refused now."""
    keys = _keys(username, address)
    try:
        blocked = client.ttl(keys.pair_block)
        if blocked and blocked > 0:
            raise LoginThrottled(int(blocked))
        count = client.get(keys.address)
        if count is not None and int(count) >= limits.failures * ADDRESS_FACTOR:
            raise LoginThrottled(max(int(client.ttl(keys.address)), 1))
    except redis.RedisError:
        log.warning("login throttle unavailable; checking the password anyway")


def count_failure(client: redis.Redis, limits: LoginLimits, username: str, address) -> None:
    """Count a failed login (wrong password or code) for the pair and the address."""
    keys = _keys(username, address)
    try:
        failures = client.incr(keys.pair_count)
        client.expire(keys.pair_count, limits.window_seconds)
        delay = limits.delay_after(failures)
        if delay:
            client.set(keys.pair_block, 1, ex=delay)
        if client.incr(keys.address) == 1:  # the address's window starts at its first failure
            client.expire(keys.address, limits.window_seconds)
    except redis.RedisError:
        log.warning("login throttle unavailable; failure not counted")


def clear_failures(client: redis.Redis, username: str, address) -> None:
    """Forget the pair's failures after a complete login (the address's count stays)."""
    keys = _keys(username, address)
    try:
        client.delete(keys.pair_count, keys.pair_block)
    except redis.RedisError:
        log.warning("login throttle unavailable; failures not cleared")


def staff_login(
    session: Session,
    client: redis.Redis,
    limits: LoginLimits,
    username: str,
    password: str,
    address: str | None,
) -> StaffUser | None:
    """The user for a right username and password, None for a wrong one (counted); raises
    LoginThrottled when this pair or address is refused now (checked before the password)."""
    check_throttle(client, limits, username, address)
    user = check_staff_password(session, username, password)
    if user is None:
        count_failure(client, limits, username, address)
        log.info("staff login failed")
    return user


@dataclass(frozen=True)
class RequestThrottle:
    """The throttle bound to this app's Redis and limits and the current request's address."""

    client: redis.Redis
    limits: LoginLimits
    address: str | None

    @classmethod
    def current(cls) -> "RequestThrottle":
        return cls(
            current_app.extensions["tongban.redis"],
            LoginLimits.from_settings(current_app.extensions["tongban.settings"]),
            request.remote_addr,
        )

    def login(self, session: Session, username: str, password: str) -> StaffUser | None:
        """`staff_login` for this request."""
        return staff_login(session, self.client, self.limits, username, password, self.address)

    def failed(self, username: str) -> None:
        """Count a failure after the password (a missing or wrong code)."""
        count_failure(self.client, self.limits, username, self.address)

    def succeeded(self, username: str) -> None:
        """Forget this pair's failures."""
        clear_failures(self.client, username, self.address)
