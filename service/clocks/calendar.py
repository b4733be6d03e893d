"""Working days in China: official holidays and 调休 make-up workdays, Monday to Friday elsewhere.

Plain Python. Official data come for whole years: the years bundled with `chinese-calendar` and
the years an admin imports when the State Council announces them. A count that touches a day of a
year without official data falls back to Monday–Friday and is marked provisional, so that it can
be recomputed when the year arrives.
"""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

HOLIDAY = "holiday"  # 放假: no work, even on a weekday
WORKDAY = "workday"  # 调休上班: work, even on a weekend
KINDS_ZH = {HOLIDAY: "放假", WORKDAY: "上班"}


@dataclass(frozen=True)
class Due:
    """A day reached by counting working days; provisional if the count relied on guesses."""

    day: date
    provisional: bool


@dataclass(frozen=True)
class Span:
    """A number of working days; provisional if the count relied on guesses."""

    working_days: int
    provisional: bool


class WorkCalendar:
    """Working-day arithmetic over official data for `known_years`."""

    def __init__(self, special: Mapping[date, str], known_years: Iterable[int]):
        self._special = dict(special)
        self.known_years = frozenset(known_years)

    def knows(self, day: date) -> bool:
        return day.year in self.known_years

    def is_workday(self, day: date) -> bool:
        kind = self._special.get(day)
        if kind is not None:
            return kind == WORKDAY
        return day.weekday() < 5

    def add(self, start: date, working_days: int) -> Due:
        """The day on which `working_days` working days after `start` have passed.

        `start` itself does not count (the day of receipt is day 0); 0 working days is `start`.
        """
        day, left, provisional = start, working_days, False
        while left > 0:
            day += timedelta(days=1)
            provisional = provisional or not self.knows(day)
            if self.is_workday(day):
                left -= 1
        return Due(day, provisional)

    def count(self, start: date, end: date) -> Span:
        """Working days after `start` up to and including `end` (0 if `end` is not later)."""
        day, n, provisional = start, 0, False
        while day < end:
            day += timedelta(days=1)
            provisional = provisional or not self.knows(day)
            n += self.is_workday(day)
        return Span(n, provisional)

    def left(self, today: date, due: date) -> int:
        """Working days from `today` to `due`: positive while time is left, negative when late."""
        if today <= due:
            return self.count(today, due).working_days
        return -self.count(due, today).working_days


@cache
def bundled() -> tuple[dict[date, str], frozenset[int]]:
    """The official days `chinese-calendar` knows, and the whole years they cover."""
    import chinese_calendar  # type: ignore[import-untyped]  # the package ships no types

    special = {d: HOLIDAY for d in chinese_calendar.holidays}
    special |= {d: WORKDAY for d in chinese_calendar.workdays}
    years = range(min(d.year for d in special), max(d.year for d in special) + 1)
    return special, frozenset(years)


def official_calendar(imported: Mapping[int, Mapping[date, str]]) -> WorkCalendar:
    """The bundled years, with each imported year replacing whatever was bundled for it."""
    special, years = bundled()
    merged = {d: k for d, k in special.items() if d.year not in imported}
    for days in imported.values():
        merged.update(days)
    return WorkCalendar(merged, years | set(imported))
