"""The second factor: time-based one-time passwords (RFC 6238, 30 s steps, 6 digits).

The secret is stored encrypted with the app's FieldCipher; the QR code for enrolment is drawn
here as inline SVG, since the networks Tongban runs on reach no CDN. A code is good once: the
step it belongs to is remembered, and only a later step's code is accepted next time.
"""

import hmac
import time

import pyotp
import qrcode
import qrcode.image.svg
from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from service.accounts.models import TOTP_ROLES, StaffUser
from service.crypto import FieldCipher
from service.sealed import TOTP_SECRET

ISSUER = "Tongban 通办"
# One step either side: a phone's clock a little off, or a code typed as it changed.
DRIFT_STEPS = 1


def totp_required(user: StaffUser) -> bool:
    """Whether this user's role must log in with a code (clerks may choose to)."""
    return user.role in TOTP_ROLES


def enrol(user: StaffUser, cipher: FieldCipher) -> str:
    """Give the user a new secret, not yet enabled (a first code confirms it); returns it."""
    secret = pyotp.random_base32()
    user.totp_secret_enc = cipher.encrypt(secret, TOTP_SECRET, str(user.id))
    user.totp_enabled = False
    user.totp_last_step = None
    return secret


def secret_of(user: StaffUser, cipher: FieldCipher) -> str | None:
    """The user's TOTP secret in clear, or None if none is enrolled."""
    if user.totp_secret_enc is None:
        return None
    return cipher.decrypt(user.totp_secret_enc, TOTP_SECRET, str(user.id))


def provisioning_uri(user: StaffUser, secret: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret).provisioning_uri(name=user.username, issuer_name=ISSUER)


def qr_svg(uri: str) -> str:
    """The QR code of `uri` as an <svg> element to put inline in a page or an answer."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8)
    svg = image.to_string(encoding="unicode")
    return svg[svg.index("<svg") :]  # no XML declaration: it is embedded in HTML


def current_code(secret: str) -> str:
    """The code for now (demo and operator use: `python -m service totp-code`)."""
    return pyotp.TOTP(secret).now()


def _matching_step(secret: str, code: str) -> int | None:
    totp, now = pyotp.TOTP(secret), time.time()
    for offset in range(-DRIFT_STEPS, DRIFT_STEPS + 1):
        at = int(now) + offset * totp.interval
        if hmac.compare_digest(totp.at(at), code):
            return at // totp.interval
    return None


def use_code(session: Session, user: StaffUser, cipher: FieldCipher, code: str) -> bool:
    """Whether `code` is right for the user's secret and not used before; marks it used.

    The step is claimed with a conditional UPDATE, so two logins racing with one code cannot
    both win: the second waits for the first's row lock and then finds the step taken."""
    secret = secret_of(user, cipher)
    if secret is None or not code.isdigit():
        return False
    step = _matching_step(secret, code)
    if step is None:
        return False
    claimed = session.execute(
        update(StaffUser)
        .where(
            StaffUser.id == user.id,
            or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step),
        )
        .values(totp_last_step=step)
    )
    return claimed.rowcount == 1
