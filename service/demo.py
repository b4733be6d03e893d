"""Demo data for the embedded run: centers at every level, terminals, staff, and credentials.

Seeding is idempotent. Credentials are written to var/demo-credentials.json; on a second start
the same keys and passwords keep working, and any that no longer match are issued anew. Demo
staff whose role needs a second factor get an authenticator secret enrolled at seeding, written
to the same file (`python -m service totp-code <username>` prints the current code).
"""

import json
import os
import secrets
from pathlib import Path

from cryptography.exceptions import InvalidTag
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash

from catalog.loaders import load_districts, load_sample_catalog
from service.accounts import totp
from service.accounts.credentials import (
    authenticate,
    create_staff,
    create_terminal,
    rotate_terminal_key,
    set_password,
)
from service.accounts.models import ServiceCenter, StaffUser, Terminal
from service.clock import local_today
from service.config import load_settings
from service.crypto import FieldCipher
from service.districts.models import DistrictConnector
from service.sealed import CONNECTOR_SECRET

# (code, name, district, level, parent code)
DEMO_CENTERS = (
    ("WH-01", "五华区政务服务中心", "530102", "district", None),
    ("WH-HS", "五华区华山街道便民服务中心", "530102", "street", "WH-01"),
    ("WH-HS-XX", "五华区华山街道西仓坡社区便民服务站", "530102", "community", "WH-HS"),
    ("FM-01", "富民县政务服务中心", "530124", "district", None),
    ("FM-YD", "富民县永定街道便民服务中心", "530124", "street", "FM-01"),
    ("FM-YD-BC", "富民县永定街道北营社区便民服务站", "530124", "community", "FM-YD"),
    ("XS-01", "西山区政务服务中心", "530112", "district", None),
    ("XS-JB", "西山区金碧街道便民服务中心", "530112", "street", "XS-01"),
    ("XS-JB-DS", "西山区金碧街道东寺社区便民服务站", "530112", "community", "XS-JB"),
    ("AN-01", "安宁市政务服务中心", "530181", "district", None),
    ("AN-LR", "安宁市连然街道便民服务中心", "530181", "street", "AN-01"),
    ("AN-LR-DH", "安宁市连然街道东湖社区便民服务站", "530181", "community", "AN-LR"),
)

# (username, display name, role, district)
DEMO_STAFF = (
    ("wh-clerk", "五华区受理员", "clerk", "530102"),
    ("wh-supervisor", "五华区督办员", "supervisor", "530102"),
    ("fm-clerk", "富民县受理员", "clerk", "530124"),
    ("fm-supervisor", "富民县督办员", "supervisor", "530124"),
    ("xs-clerk", "西山区受理员", "clerk", "530112"),
    ("xs-supervisor", "西山区督办员", "supervisor", "530112"),
    ("an-clerk", "安宁市受理员", "clerk", "530181"),
    ("an-supervisor", "安宁市督办员", "supervisor", "530181"),
    ("city-auditor", "市级审计员", "auditor", None),
    ("admin", "系统管理员", "admin", None),
    ("security-admin", "安全管理员", "security_admin", None),
    ("security-auditor", "安全审计员", "security_auditor", None),
)


def seed_reference_data(session: Session) -> dict[str, int]:
    """Districts, the sample catalog and the demo service centers."""
    counts = {"districts": load_districts(session)}
    report = load_sample_catalog(session, local_today())
    counts["new item versions"] = len(report.items_created) + len(report.items_changed)
    centers = {c.code: c for c in session.scalars(select(ServiceCenter))}
    for code, name, district, level, parent in DEMO_CENTERS:
        center = centers.get(code) or ServiceCenter(code=code)
        center.name, center.district_code, center.level = name, district, level
        center.parent_id = centers[parent].id if parent else None
        session.add(center)
        session.flush()
        centers[code] = center
    counts["centers"] = len(DEMO_CENTERS)
    return counts


def _terminal_credentials(session: Session, known: dict) -> list[dict]:
    out = []
    for code, name, district, _level, _parent in DEMO_CENTERS:
        center = session.scalar(select(ServiceCenter).where(ServiceCenter.code == code))
        terminal_name = f"{name}1号窗口"
        terminal = session.scalar(
            select(Terminal).where(Terminal.center_id == center.id, Terminal.name == terminal_name)
        )
        key = known.get(code)
        if terminal is None:
            terminal, key = create_terminal(session, center, terminal_name)
        elif not key or authenticate(session, key) is None:
            key = rotate_terminal_key(session, terminal)
        out.append(
            {
                "center": code,
                "center_name": name,
                "district": district,
                "terminal": terminal_name,
                "api_key": key,
            }
        )
    return out


def _demo_totp(user: StaffUser, cipher: FieldCipher, known: str | None) -> str | None:
    """The authenticator secret of a demo user whose role needs one: the known one while it
    still matches the database, else a new one, enrolled and enabled."""
    if not totp.totp_required(user):
        return None
    try:
        same = bool(known) and user.totp_enabled and totp.secret_of(user, cipher) == known
    except (InvalidTag, ValueError):  # enrolled under another data key: enrol again
        same = False
    if same:
        return known
    secret = totp.enrol(user, cipher)
    user.totp_enabled = True
    return secret


def _staff_credentials(session: Session, known: dict, cipher: FieldCipher) -> list[dict]:
    out = []
    for username, display, role, district in DEMO_STAFF:
        user = session.scalar(select(StaffUser).where(StaffUser.username == username))
        password = known.get(username)
        if user is None:
            password = secrets.token_urlsafe(12)
            user = create_staff(session, username, password, role, district, display)
        elif not password or not check_password_hash(user.password_hash, password):
            password = secrets.token_urlsafe(12)
            set_password(user, password)
        user.must_change_password = False
        entry = {"username": username, "password": password, "role": role, "district": district}
        secret = _demo_totp(user, cipher, known.get(f"totp:{username}"))
        if secret:
            entry["totp_secret"] = secret
        out.append(entry)
    return out


def seed_demo(
    session: Session, credentials_path: Path, cipher: FieldCipher | None = None
) -> dict[str, int]:
    """Seed everything the demo needs and (re)write the credentials file; commits.

    `cipher` encrypts the demo authenticator secrets; by default it is made from the data key
    of this process's settings (the launcher and the bench seed before any app exists)."""
    cipher = cipher or FieldCipher.from_settings(load_settings())
    counts = seed_reference_data(session)
    known: dict = {}
    if credentials_path.exists():
        previous = json.loads(credentials_path.read_text(encoding="utf-8"))
        known = {t["center"]: t["api_key"] for t in previous.get("terminals", [])}
        known |= {s["username"]: s["password"] for s in previous.get("staff", [])}
        known |= {
            f"totp:{s['username']}": s["totp_secret"]
            for s in previous.get("staff", [])
            if s.get("totp_secret")
        }
    credentials = {
        "note": "Demo credentials for the embedded run only. Never use them in production.",
        "terminals": _terminal_credentials(session, known),
        "staff": _staff_credentials(session, known, cipher),
    }
    session.commit()
    credentials_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = credentials_path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(credentials, f, ensure_ascii=False, indent=2)
    tmp.replace(credentials_path)
    counts["terminals"] = len(credentials["terminals"])
    counts["staff"] = len(credentials["staff"])
    return counts


def simulate_district_system(
    session: Session, cipher: FieldCipher, code: str, base_url: str, var_dir: Path
) -> str:
    """Point a demo district at a simulated case system of its own; returns the shared secret.

    The secret is kept under var/ so a restart keeps it; the address changes with each start.
    """
    secret_file = var_dir / "demo-district-secret"
    if not secret_file.exists():
        secret_file.write_text(secrets.token_urlsafe(24))
        os.chmod(secret_file, 0o600)
    secret = secret_file.read_text().strip()
    connector = session.get(DistrictConnector, code) or DistrictConnector(district_code=code)
    connector.kind, connector.endpoint = "http", f"{base_url}/deliveries"
    connector.status_endpoint = f"{base_url}/status"
    connector.secret_enc = cipher.encrypt(secret, CONNECTOR_SECRET, code)
    connector.paused = False
    connector.breaker_state, connector.breaker_failures, connector.breaker_opened_at = (
        "closed",
        0,
        None,
    )
    session.add(connector)
    session.commit()
    return secret
