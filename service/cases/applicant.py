"""The applicant's personal data as a case keeps it: sealed with the field cipher, bound to
the case number, with keyed hashes for exact search and the masked name lists show."""

from dataclasses import dataclass
from typing import Any

from service.cases.models import Case
from service.cases.personal import mask_name, normalize_name
from service.crypto import FieldCipher
from service.sealed import CASE_ADDRESS, CASE_ID_NUMBER, CASE_NAME, CASE_PHONE

NAME_HASH = "applicant_name"


@dataclass(frozen=True)
class Applicant:
    name: str
    id_number: str
    phone: str
    address: str | None


def name_hash(cipher: FieldCipher, name: str) -> str:
    """The blind index of a name, for finding cases by the exact name."""
    return cipher.lookup_hash(normalize_name(name), NAME_HASH)


def sealed_name(cipher: FieldCipher, case_no: str, name: str) -> dict[str, Any]:
    """The columns that keep a name: sealed, its hash, its masked form; the plain one empty."""
    return {
        "applicant_name": None,
        "applicant_name_enc": cipher.encrypt(name, CASE_NAME, case_no),
        "applicant_name_hash": name_hash(cipher, name),
        "applicant_name_masked": mask_name(name),
    }


def sealed_applicant(cipher: FieldCipher, case_no: str, applicant: dict[str, Any]) -> dict:
    """The columns of a new case that keep its applicant's personal data."""
    address = applicant["address"]
    return {
        **sealed_name(cipher, case_no, applicant["name"]),
        "applicant_id_enc": cipher.encrypt(applicant["id_number"], CASE_ID_NUMBER, case_no),
        "applicant_id_hash": cipher.lookup_hash(applicant["id_number"], "applicant_id"),
        "phone_enc": cipher.encrypt(applicant["phone"], CASE_PHONE, case_no),
        "phone_hash": cipher.lookup_hash(applicant["phone"], "phone"),
        "address_enc": address and cipher.encrypt(address, CASE_ADDRESS, case_no),
    }


def name_of(cipher: FieldCipher, case: Case) -> str:
    """The full name (the plain column only for a case not yet sealed by `reencrypt`)."""
    if case.applicant_name_enc is not None:
        return cipher.decrypt(case.applicant_name_enc, CASE_NAME, case.case_no)
    return case.applicant_name or ""


def masked_name(case: Case) -> str:
    """The name as lists show it."""
    return case.applicant_name_masked or mask_name(case.applicant_name or "")


def applicant_of(cipher: FieldCipher, case: Case) -> Applicant:
    """Everything about the applicant in clear: for the parties' systems and reveals only."""
    no = case.case_no
    return Applicant(
        name=name_of(cipher, case),
        id_number=cipher.decrypt(case.applicant_id_enc, CASE_ID_NUMBER, no),
        phone=cipher.decrypt(case.phone_enc, CASE_PHONE, no),
        address=case.address_enc and cipher.decrypt(case.address_enc, CASE_ADDRESS, no),
    )
