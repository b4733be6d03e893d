"""Staff password login, throttled against guessing: the API and the login page both use it.

Failures are counted in Redis per username (existing or not, so the answer never tells which
names exist) and per client address. Past the limit, logins for that name or from that address
are refused until the window ends, even with the right password. If Redis is down, logins go
on (logged): the password check itself never depends on it.
"""

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

    @classmethod
    def from_settings(cls, settings) -> "LoginLimits":
        return cls(settings.login_failures, settings.login_window_seconds)


class LoginThrottled(Exception):
    """Too many failed logins; try again after `retry_after` seconds."""

    def __init__(self, retry_after: int):
        super().__init__(f"too many failed logins; retry after {retry_after} s")
        self.retry_after = retry_after
        self.minutes = -(-retry_after // 60)  # rounded up, for people
        self.message_zh = f"登录失败次数过多，请 {self.minutes} 分钟后再试。"


def _keys(username: str, address: str | None) -> list[tuple[str, int]]:
    return [
        (f"tongban:login-failures:user:{username.casefold()}", 1),
        (f"tongban:login-failures:addr:{address or 'unknown'}", ADDRESS_FACTOR),
    ]


def staff_login(
    session: Session,
    client: redis.Redis,
    limits: LoginLimits,
    username: str,
    password: str,
    address: str | None,
) -> StaffUser | None:
    """The user for a right username and password, None for a wrong one; LoginThrottled when
    this name or address has failed too often lately (checked before the password)."""
    keys = _keys(username, address)
    try:
        counts = client.mget([key for key, _ in keys])
        for (key, factor), count in zip(keys, counts, strict=True):
            if count is not None and int(count) >= limits.failures * factor:
                raise LoginThrottled(max(int(client.ttl(key)), 1))
    except redis.RedisError:
        log.warning("login throttle unavailable; checking the password anyway")
    user = check_staff_password(session, username, password)
    try:
        if user is None:
            for key, _ in keys:
                if client.incr(key) == 1:  # the window starts at the first failure
                    client.expire(key, limits.window_seconds)
            log.info("staff login failed")
        else:
            client.delete(keys[0][0])
    except redis.RedisError:
        log.warning("login throttle unavailable; failure not counted")
    return user


def staff_login_for_request(session: Session, username: str, password: str) -> StaffUser | None:
    """`staff_login` with this app's Redis and limits, for the client of the current request."""
    return staff_login(
        session,
        current_app.extensions["tongban.redis"],
        LoginLimits.from_settings(current_app.extensions["tongban.settings"]),
        username,
        password,
        request.remote_addr,
    )
