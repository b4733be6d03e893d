"""The citizen's query code (查询码): the secret that, with the case number, opens the look-up.

Ten characters from an alphabet without look-alikes (no 0/O, 1/I/L): 31 symbols, about 49.5
bits, so guessing one case's code is hopeless even before the look-up's back-off. It is shown
to the accepting window only (intake answer, receipt, reprint) and kept encrypted with the
field key, bound to its column, so a copied table does not give it away.
"""

import hmac
import secrets
import unicodedata

from sqlalchemy import update
from sqlalchemy.orm import Session

from service.accounts.credentials import Principal
from service.audit import security_log
from service.cases.models import Case
from service.crypto import FieldCipher
from service.sealed import CASE_QUERY_CODE

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
LENGTH = 10
# Compared against when the case has no code (or does not exist), so that a miss costs the
# same constant-time comparison as a wrong guess.
_NOTHING = "\x00" * LENGTH


def new_code() -> str:
    """A fresh random code, as stored (no separator)."""
    return "".join(secrets.choice(ALPHABET) for _ in range(LENGTH))


def normalize(typed: str) -> str:
    """What a citizen typed, as stored: full-width forms folded (NFKC, as Chinese input methods
    often give them), upper case, and the spaces and hyphens people add dropped."""
    folded = unicodedata.normalize("NFKC", typed).upper()
    return "".join(ch for ch in folded if not ch.isspace() and ch != "-")


def well_formed(code: str) -> bool:
    """Whether a normalized code could be one we issued."""
    return len(code) == LENGTH and all(ch in ALPHABET for ch in code)


def display(code: str) -> str:
    """Two groups of five, as printed: easier to read out and to type."""
    half = LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def encrypt(cipher: FieldCipher, case_no: str, code: str) -> bytes:
    """The code as the cases table keeps it, bound to its case."""
    return cipher.encrypt(code, CASE_QUERY_CODE, case_no)


def matches(cipher: FieldCipher, case: Case | None, typed: str) -> bool:
    """Whether `typed` (normalized) is this case's code, compared in constant time."""
    stored = _NOTHING
    if case is not None and case.query_code_enc is not None:
        stored = cipher.decrypt(case.query_code_enc, CASE_QUERY_CODE, case.case_no)
    return hmac.compare_digest(stored.encode(), typed.encode())


def shown_to(principal: Principal, case: Case) -> bool:
    """Only a window of the center that took the application prints the code (it hands the
    receipt to the citizen); the responsible district never needs it."""
    return principal.kind == "terminal" and principal.center_id == case.accepting_center_id


def code_of(session: Session, cipher: FieldCipher, case: Case) -> str:
    """The case's code, issued now if it has none (cases taken before codes existed get theirs
    when the accepting window reprints the receipt; the key is not in the database, so the
    migration could not make them); the caller commits.

    The update is conditional and bypasses the case's version counter: two reprints at once
    agree on one code, and issuing it is no change a window's open form should conflict with.
    """
    if case.query_code_enc is None:
        session.execute(
            update(Case)
            .where(Case.id == case.id, Case.query_code_enc.is_(None))
            .values(query_code_enc=encrypt(cipher, case.case_no, new_code()))
            .execution_options(synchronize_session=False)
        )
        # Ours, or the one a concurrent reprint wrote first (its update held ours until it
        # committed, and ours then found the code set).
        session.refresh(case, ["query_code_enc"])
    return cipher.decrypt(case.query_code_enc, CASE_QUERY_CODE, case.case_no)


def reveal(session: Session, cipher: FieldCipher, principal: Principal, case: Case) -> str:
    """The case's code to print again (`code_of`), logged in the security log as a reveal of
    a secret; the caller checked `shown_to` and commits."""
    code = code_of(session, cipher, case)
    security_log.revealed(session, "query_code.reveal", case, principal)
    return code
