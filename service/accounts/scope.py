"""Who may manage which accounts, terminals and sessions, and read which security events.

Kept apart as small predicates so the policy module can take them over as they are. Security
admins (三员分立: not system admins) manage accounts; a district-scoped one only the staff and
terminals of their district, never city-wide accounts nor other security admins. Objects a
principal may not manage are answered 404 (as if missing), like cases of other districts.
"""

from service.accounts.credentials import Principal
from service.accounts.models import StaffUser, Terminal

MANAGER_ROLES = ("security_admin",)
SECURITY_LOG_READERS = ("security_auditor",)


def _city_wide(principal: Principal) -> bool:
    return principal.district_code is None


def may_create_account(principal: Principal, role: str, district_code: str | None) -> bool:
    """Whether `principal` may create (or change an account into) this role and scope."""
    if principal.role not in MANAGER_ROLES:
        return False
    if _city_wide(principal):
        return True
    return role != "security_admin" and district_code == principal.district_code


def may_manage_account(principal: Principal, user: StaffUser) -> bool:
    """Whether `principal` may see, deactivate, reset or change the account `user`."""
    return may_create_account(principal, user.role, user.district_code)


def may_manage_terminal(principal: Principal, terminal: Terminal) -> bool:
    """Whether `principal` may see, rotate or revoke `terminal` (by its center's district)."""
    if principal.role not in MANAGER_ROLES:
        return False
    return _city_wide(principal) or terminal.center.district_code == principal.district_code


def may_manage_center(principal: Principal, district_code: str) -> bool:
    """Whether `principal` may add terminals to a center of `district_code`."""
    if principal.role not in MANAGER_ROLES:
        return False
    return _city_wide(principal) or district_code == principal.district_code


def managed_district(principal: Principal) -> str | None:
    """The one district whose accounts a manager lists, or None for all (city-wide)."""
    return principal.district_code


def may_read_security_log(principal: Principal) -> bool:
    """Whether `principal` reads the security log at all (security auditors only)."""
    return principal.kind == "staff" and principal.role in SECURITY_LOG_READERS


def security_log_district(principal: Principal) -> str | None:
    """The district whose security events a reader sees, or None for every event."""
    return principal.district_code
