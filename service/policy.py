"""Who may do what: the one module every route and page asks before acting (docs/DESIGN.md §7).

Two questions, asked in this order:

1. `allows(principal, permission)`: may this kind of principal (a terminal, or staff of this
   role) use the operation at all? The API asks it before reading anything of the request, so a
   wrong role is a 403 however malformed the body.
2. The object questions (`sees_case`, `sides_of`, `manages_district`, ...): may this principal
   do it to *this* case, district or setting? A case outside the principal's reach is a 404
   (no probing); a district setting outside an admin's scope is a 404 too.

Duties are separate (三员分立): system administration (`admin`: connectors, imports, pauses,
dead letters, calendar), security administration (`security_admin`: accounts, keys, sessions)
and security audit (`security_auditor`: reads the security log). None of them is a party to a
case, so none reads applicants' personal data or scans. Statistics auditors (`auditor`) read
figures and masked lists. Admins and security admins scoped to a district manage only it;
settings that span districts (the catalog, the calendar, closing a month) need a city-wide one.

Inside a district, the accepting side's steps (supplement, deliver the result, withdraw,
close, originals, rating) are taken at the window: by a terminal of the service center that
took the application, or of a center above it in the three levels (a district center for its
streets' and communities' cases, a street center for its communities'). Back-office staff act
for the responsible side only.
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from enum import StrEnum

from service.accounts.credentials import Principal
from service.cases.lifecycle import Side

WORKING_ROLES = ("clerk", "supervisor")
CITY_WIDE_ROLES = ("auditor", "admin", "security_admin", "security_auditor")
ROLES = ("clerk", "supervisor", "auditor", "admin", "security_admin", "security_auditor")


class Permission(StrEnum):
    """An operation, named for what it does; each route and page declares exactly one."""

    PUBLIC = "public"  # no credential: log in, the citizen's look-up, signed download links
    SIGNED = "signed"  # no credential, a signed body: district systems' callbacks
    ANY = "any"  # any valid credential: who am I, log out, the catalog, the calendar
    OWN_ACCOUNT = "own_account"  # staff: change one's password, enrol a second factor
    SUBMIT = "submit"
    READ_CASE = "read_case"
    CASE_STEP = "case_step"  # which step, and on which side, is the object's question
    WORK_CASE = "work_case"  # claim, pause and resume the clock, originals arrived
    ASSIGN = "assign"
    QUEUE = "queue"
    NEWS = "news"
    MAILING_CONTACT = "mailing_contact"
    APPLICANT_NAME = "applicant_name"  # the full name, for a party of the case, logged
    UPLOAD = "upload"
    READ_FILES = "read_files"
    RATE = "rate"
    READ_RECTIFICATIONS = "read_rectifications"
    WORK_RECTIFICATION = "work_rectification"
    REVIEW_APPEAL = "review_appeal"
    EXPORT_CATALOG = "export_catalog"
    IMPORT_CATALOG = "import_catalog"
    IMPORT_CALENDAR = "import_calendar"
    READ_STATS = "read_stats"
    CLOSE_MONTH = "close_month"
    VERIFY_TIMELINE = "verify_timeline"
    DASHBOARD = "dashboard"  # the supervisor's page of figures, deadlines, deliveries
    VIEW_DISTRICTS = "view_districts"
    MANAGE_DISTRICT = "manage_district"  # connector, pause, resume, dead letters
    MANAGE_ACCOUNTS = "manage_accounts"
    READ_SECURITY_LOG = "read_security_log"
    EXPORT_SECURITY_LOG = "export_security_log"


@dataclass(frozen=True)
class Rule:
    kinds: tuple[str, ...]
    roles: tuple[str, ...] = ()  # for staff; empty means any role
    city_wide: bool = False  # staff scoped to a district may not

    def admits(self, principal: Principal) -> bool:
        if principal.kind not in self.kinds:
            return False
        if principal.kind != "staff":
            return True
        if self.roles and principal.role not in self.roles:
            return False
        return not self.city_wide or principal.district_code is None


_WINDOW = ("terminal",)
_STAFF = ("staff",)
_EVERYONE = ("terminal", "staff")

RULES: dict[Permission, Rule] = {
    Permission.ANY: Rule(_EVERYONE),
    Permission.OWN_ACCOUNT: Rule(_STAFF),
    Permission.SUBMIT: Rule(_WINDOW),
    Permission.READ_CASE: Rule(_EVERYONE, (*WORKING_ROLES, "auditor")),
    Permission.CASE_STEP: Rule(_EVERYONE, WORKING_ROLES),
    Permission.WORK_CASE: Rule(_STAFF, WORKING_ROLES),
    Permission.ASSIGN: Rule(_STAFF, ("supervisor",)),
    Permission.QUEUE: Rule(_STAFF, (*WORKING_ROLES, "auditor")),
    Permission.NEWS: Rule(_EVERYONE, WORKING_ROLES),
    Permission.MAILING_CONTACT: Rule(_WINDOW),
    Permission.APPLICANT_NAME: Rule(_EVERYONE, WORKING_ROLES),
    Permission.UPLOAD: Rule(_WINDOW),
    Permission.READ_FILES: Rule(_EVERYONE, WORKING_ROLES),
    Permission.RATE: Rule(_WINDOW),
    Permission.READ_RECTIFICATIONS: Rule(_STAFF, (*WORKING_ROLES, "auditor")),
    Permission.WORK_RECTIFICATION: Rule(_STAFF, WORKING_ROLES),
    Permission.REVIEW_APPEAL: Rule(_STAFF, ("supervisor",)),
    Permission.EXPORT_CATALOG: Rule(_STAFF, ("admin", "auditor", "supervisor")),
    Permission.IMPORT_CATALOG: Rule(_STAFF, ("admin",), city_wide=True),
    Permission.IMPORT_CALENDAR: Rule(_STAFF, ("admin",), city_wide=True),
    Permission.READ_STATS: Rule(_STAFF, ("auditor", "supervisor", "admin")),
    Permission.CLOSE_MONTH: Rule(_STAFF, ("admin",), city_wide=True),
    Permission.VERIFY_TIMELINE: Rule(
        _STAFF, ("auditor", "admin", "security_auditor"), city_wide=True
    ),
    Permission.DASHBOARD: Rule(_STAFF, ("supervisor", "admin")),
    Permission.VIEW_DISTRICTS: Rule(_STAFF, ("admin", "supervisor", "auditor")),
    Permission.MANAGE_DISTRICT: Rule(_STAFF, ("admin",)),
    Permission.MANAGE_ACCOUNTS: Rule(_STAFF, ("security_admin",)),
    Permission.READ_SECURITY_LOG: Rule(_STAFF, ("security_auditor",)),
    Permission.EXPORT_SECURITY_LOG: Rule(_STAFF, ("security_auditor",)),
}


def allows(principal: Principal, permission: Permission) -> bool:
    """Whether the principal may use an operation of this permission at all."""
    if permission in (Permission.PUBLIC, Permission.SIGNED):
        return True
    return RULES[permission].admits(principal)


def refusal_detail(principal: Principal, permission: Permission) -> str:
    """Why `allows` said no, in a sentence for the 403 (names roles, never objects)."""
    rule = RULES[permission]
    if principal.kind not in rule.kinds:
        return f"A {principal.kind} may not do this."
    if rule.city_wide and principal.district_code is not None and principal.role in rule.roles:
        return "This setting spans districts: a city-wide account must change it."
    return f"A {principal.role} may not do this."


def manages_district(principal: Principal, district_code: str) -> bool:
    """Whether a (system or security) admin's scope covers this district."""
    return principal.district_code is None or principal.district_code == district_code


def sees_case(principal: Principal, accepting: str, responsible: str) -> bool:
    """Whether the principal may read a case between these districts: the parties (terminals,
    clerks, supervisors of either district; district systems of theirs) and statistics
    auditors of the city or of either district. Administrators are no party to any case."""
    if principal.kind == "staff" and principal.role not in (*WORKING_ROLES, "auditor"):
        return False
    return principal.district_code is None or principal.district_code in (accepting, responsible)


def case_scope(principal: Principal) -> tuple[str, ...] | None:
    """The districts whose cases a principal's lists show (None: every district, for city-wide
    auditors); an empty tuple for principals who see no case at all."""
    if principal.kind == "staff" and principal.role not in (*WORKING_ROLES, "auditor"):
        return ()
    return None if principal.district_code is None else (principal.district_code,)


def _at_or_above(
    center_id: int | None, case_center_id: int | None, centers_above: Callable[[int], Iterable[int]]
) -> bool:
    """Whether a terminal's center is the case's own or one above it (any, for a case with no
    center recorded)."""
    if case_center_id is None:
        return True
    return center_id == case_center_id or center_id in set(centers_above(case_center_id))


def sides_of(
    principal: Principal,
    accepting: str,
    responsible: str,
    accepting_center_id: int | None,
    centers_above: Callable[[int], Iterable[int]],
) -> frozenset[Side]:
    """Which sides of a case the principal may act for (see the module's rule).

    `centers_above(center_id)` gives the ids of the centers above a center, nearest first."""
    sides = set()
    if (
        principal.kind == "terminal"
        and principal.district_code == accepting
        and _at_or_above(principal.center_id, accepting_center_id, centers_above)
    ):
        sides.add(Side.ACCEPTING)
    # A district's own case system acts for it through signed callbacks.
    if principal.district_code == responsible and (
        principal.kind == "district_system"
        or (principal.kind == "staff" and principal.role in WORKING_ROLES)
    ):
        sides.add(Side.RESPONSIBLE)
    return frozenset(sides)


def manages_account(principal: Principal, role: str, district_code: str | None) -> bool:
    """Whether a security admin may create, see or change an account of this role and scope
    (or turn one into it): a city-wide one any; a district one only accounts of their own
    district, and never security admins."""
    if not allows(principal, Permission.MANAGE_ACCOUNTS):
        return False
    if principal.district_code is None:
        return True
    return role != "security_admin" and district_code == principal.district_code


def manages_terminals_of(principal: Principal, district_code: str) -> bool:
    """Whether a security admin may add, see, rotate or revoke terminals of this district."""
    return allows(principal, Permission.MANAGE_ACCOUNTS) and manages_district(
        principal, district_code
    )


def district_scope(principal: Principal) -> str | None:
    """The one district a district-scoped admin, security admin or security auditor lists
    (dead letters, accounts, terminals, sessions, security events); None for city-wide ones."""
    return principal.district_code
