"""Item search for the window: words of the name, 基本编码, pinyin initials and full pinyin.

Each item version carries three search keys computed when it is written: its names (the name and
its aliases such as 社保卡), their full pinyin, and their pinyin initials, each as "|a|b|" so that
"starts a name" is a plain LIKE. A query's terms must all match; each term scores by how well it
matches (an exact code or name beats a prefix, a prefix beats a substring), and the total ranks.
"""

import re
from dataclasses import dataclass

from pypinyin import Style, lazy_pinyin
from sqlalchemy import ColumnElement, and_, case, literal, true

_TERM_SPLIT = re.compile(r"[\s,，、;；|]+")
_LATIN = re.compile(r"^[a-z]+$")
_CODE = re.compile(r"^[0-9a-z]{2,12}$")


@dataclass(frozen=True)
class SearchKeys:
    names: str
    pinyin: str
    initials: str


def _joined(parts: list[str]) -> str:
    return "|" + "|".join(parts) + "|"


def search_keys(name: str, aliases: list[str]) -> SearchKeys:
    """The keys an item version is found by; polyphones follow pypinyin's phrase dictionary."""
    names = list(dict.fromkeys([name, *aliases]))
    return SearchKeys(
        names=_joined([n.lower() for n in names]),
        pinyin=_joined(["".join(lazy_pinyin(n, errors="ignore")) for n in names]),
        initials=_joined(
            ["".join(lazy_pinyin(n, style=Style.FIRST_LETTER, errors="ignore")) for n in names]
        ),
    )


def query_terms(text: str) -> list[str]:
    """The terms of a query, lower-cased, duplicates dropped, at most 5."""
    return list(dict.fromkeys(t for t in _TERM_SPLIT.split(text.strip().lower()) if t))[:5]


def _escape(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _like(column, pattern: str) -> ColumnElement[bool]:
    return column.like(pattern, escape="\\")


def term_score(term: str, *, code, names, pinyin, initials) -> ColumnElement[int]:
    """How well one term matches a row: its best match's score, 0 when nothing matches."""
    t = _escape(term)
    whens: list[tuple[ColumnElement[bool], int]] = [
        (_like(names, f"%|{t}|%"), 90),
        (_like(names, f"%|{t}%"), 70),
        (_like(names, f"%{t}%"), 50),
    ]
    if _CODE.match(term):
        whens += [(code == term.upper(), 100), (_like(code, t.upper() + "%"), 80)]
    if _LATIN.match(term):
        whens += [
            (_like(initials, f"%|{t}|%"), 65),
            (_like(initials, f"%|{t}%"), 60),
            (_like(pinyin, f"%|{t}%"), 55),
            (_like(initials, f"%{t}%"), 35),
            (_like(pinyin, f"%{t}%"), 30),
        ]
    # CASE takes the first branch that holds: best first.
    whens.sort(key=lambda when: when[1], reverse=True)
    return case(*whens, else_=literal(0))


def match_all(terms: list[str], **columns) -> tuple[ColumnElement[bool], ColumnElement[int]]:
    """(every term matches, total score) for the given columns."""
    scores = [term_score(t, **columns) for t in terms]
    if not scores:
        return true(), literal(0)
    return and_(*(s > 0 for s in scores)), sum(scores[1:], start=scores[0])
