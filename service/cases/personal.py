"""Personal data rules: GB 11643 ID numbers, phone numbers, names, and masking. Pure Python."""

import re
import unicodedata
from datetime import date

_ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_ID_CHECK = "10X98765432"
_ID_SHAPE = re.compile(r"^\d{17}[\dX]$")

_MOBILE = re.compile(r"^1[3-9]\d{9}$")
_LANDLINE = re.compile(r"^0\d{2,3}\d{7,8}$")

# CJK ideographs in every Unicode block, so rare characters such as 𠈌 (U+2020C) are names too.
_CJK_RANGES = (
    (0x3400, 0x4DBF),  # Extension A
    (0x4E00, 0x9FFF),  # Unified Ideographs
    (0xF900, 0xFAFF),  # Compatibility Ideographs
    (0x20000, 0x2A6DF),  # Extension B
    (0x2A700, 0x2EBEF),  # Extensions C-F
    (0x2EBF0, 0x2EE5F),  # Extension I
    (0x2F800, 0x2FA1F),  # Compatibility Supplement
    (0x30000, 0x323AF),  # Extensions G-H
    (0x323B0, 0x3347F),  # Extension J
)
# Middle dots separate parts of ethnic-minority and transliterated names (阿卜杜·热西提).
_NAME_SEPARATORS = {"·", "•", "・"}


def normalize_id_number(value: str) -> str:
    return value.strip().upper()


def id_number_error(value: str) -> str | None:
    """Why `value` is not a valid 18-character resident ID number (GB 11643), or None."""
    if not _ID_SHAPE.match(value):
        return "Must be 18 characters: 17 digits and a check digit (0-9 or X)."
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return "The birth date in the ID number is not a real date."
    if born > date.today() or born.year < 1880:
        return "The birth date in the ID number is out of range."
    total = sum(int(d) * w for d, w in zip(value[:17], _ID_WEIGHTS, strict=True))
    if _ID_CHECK[total % 11] != value[17]:
        return "Check digit does not match (GB 11643)."
    return None


def normalize_phone(value: str) -> str:
    return re.sub(r"[\s\-()]", "", value.strip()).removeprefix("+86")


def is_phone(value: str) -> bool:
    """A mainland mobile number or a landline with its area code (0871-…)."""
    return bool(_MOBILE.match(value) or _LANDLINE.match(value))


def _is_cjk(ch: str) -> bool:
    cp = ord(ch)
    return any(lo <= cp <= hi for lo, hi in _CJK_RANGES)


def is_person_name(value: str) -> bool:
    """Chinese names of any ideograph, with middle dots between parts; 1 to 40 characters."""
    if not 1 <= len(value) <= 40 or value[0] in _NAME_SEPARATORS or value[-1] in _NAME_SEPARATORS:
        return False
    return all(_is_cjk(ch) or ch in _NAME_SEPARATORS for ch in value)


def mask_id_number(value: str) -> str:
    """Keep the region's first 4 and the last 4 characters: 5301**********123X."""
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


def mask_phone(value: str) -> str:
    return value[:3] + "*" * (len(value) - 7) + value[-4:] if len(value) > 7 else "*" * len(value)


def mask_address(value: str) -> str:
    """Keep the first 6 characters (city and district) of an address."""
    return value[:6] + "…" if len(value) > 6 else value


def normalize_name(value: str) -> str:
    """A name as its look-up hash is taken: full-width forms folded (NFKC), spaces dropped,
    and every middle-dot form written as "·", so the same name typed twice hashes the same."""
    folded = unicodedata.normalize("NFKC", value)
    kept = "".join(ch for ch in folded if not ch.isspace())
    return "".join("·" if ch in _NAME_SEPARATORS else ch for ch in kept)


def mask_name(value: str) -> str:
    """A name as lists, exports and readers who are no party see it.

    The first and last characters stay, the rest are stars: 张*三, 欧**娜; a two-character
    name keeps its first (张*), a one-character one nothing (*). Names in parts (阿依古丽·买买提)
    keep their first part and the first character of each later one: 阿依古丽·买*.
    """
    name = normalize_name(value)
    parts = name.split("·")
    if len(parts) > 1 and all(parts):
        return "·".join([parts[0], *(p[:1] + "*" for p in parts[1:])])
    if len(name) <= 1:
        return "*" if name else ""
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
