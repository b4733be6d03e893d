"""Working-day arithmetic on China's official calendar, and how deadlines stand. Pure Python."""

from datetime import date

from service.clocks.calendar import HOLIDAY, WORKDAY, official_calendar
from service.clocks.deadlines import DueState, Standing, due_on, standing
from service.clocks.tracking import paused_working_days
from service.ratings.levels import LEVELS, is_bad

CALENDAR = official_calendar({})
# A 2027 as an admin might import it: 元旦 on Friday 1 January, a make-up Sunday in February.
WITH_2027 = official_calendar({2027: {date(2027, 1, 1): HOLIDAY, date(2027, 2, 7): WORKDAY}})


def test_national_day_week_is_not_counted():
    for day in range(1, 8):
        assert not CALENDAR.is_workday(date(2026, 10, day))
    due = CALENDAR.add(date(2026, 9, 30), 1)  # received the day before the holiday
    assert due.day == date(2026, 10, 8) and not due.provisional
    assert CALENDAR.count(date(2026, 9, 30), date(2026, 10, 8)).working_days == 1


def test_a_make_up_saturday_is_a_workday():
    assert date(2026, 10, 10).weekday() == 5 and CALENDAR.is_workday(date(2026, 10, 10))
    assert CALENDAR.add(date(2026, 10, 9), 1).day == date(2026, 10, 10)
    assert not CALENDAR.is_workday(date(2026, 10, 17))  # an ordinary Saturday


def test_a_deadline_in_an_unknown_year_is_provisional_until_the_year_is_imported():
    assert 2027 not in CALENDAR.known_years
    guessed = CALENDAR.add(date(2026, 12, 28), 10)  # 1 January counted as a Friday at work
    assert (guessed.day, guessed.provisional) == (date(2027, 1, 11), True)
    known = WITH_2027.add(date(2026, 12, 28), 10)
    assert known.day == date(2027, 1, 12) and not known.provisional
    assert WITH_2027.is_workday(date(2027, 2, 7))  # the imported make-up Sunday
    within_2026 = CALENDAR.add(date(2026, 12, 1), 5)
    assert not within_2026.provisional


def test_zero_days_is_the_same_day_and_pauses_add_working_days():
    assert CALENDAR.add(date(2026, 11, 25), 0).day == date(2026, 11, 25)
    plain = due_on(CALENDAR, date(2026, 11, 2), 10, 0).day
    paused = due_on(CALENDAR, date(2026, 11, 2), 10, 3).day
    assert CALENDAR.count(plain, paused).working_days == 3
    # Accepted Monday 23 November; paused Wednesday 25, resumed Wednesday 2 December:
    # Wed Thu Fri Mon Tue were lost.
    accepted = date(2026, 11, 23)
    assert paused_working_days(CALENDAR, accepted, date(2026, 11, 25), date(2026, 12, 2)) == 5
    assert paused_working_days(CALENDAR, accepted, date(2026, 11, 25), date(2026, 11, 25)) == 0
    # Paused on the day of acceptance itself: that day never counted, so it is not given back.
    assert paused_working_days(CALENDAR, accepted, accepted, date(2026, 11, 24)) == 0


def test_standing_due_soon_overdue_and_paused():
    due = date(2026, 11, 27)  # a Friday
    assert standing(CALENDAR, date(2026, 11, 23), due, 2, None) == Standing(DueState.ON_TIME, 4)
    assert standing(CALENDAR, date(2026, 11, 25), due, 2, None).state == DueState.DUE_SOON
    assert standing(CALENDAR, due, due, 2, None) == Standing(DueState.DUE_SOON, 0)
    late = standing(CALENDAR, date(2026, 12, 1), due, 2, None)  # Tuesday after
    assert late == Standing(DueState.OVERDUE, -2)
    # Paused Monday with 4 days left: still 4 a week later, not counting down.
    paused = standing(CALENDAR, date(2026, 11, 30), due, 2, date(2026, 11, 23))
    assert paused == Standing(DueState.PAUSED, 4)


def test_bad_ratings_are_the_last_two_levels():
    assert list(LEVELS.values()) == ["非常满意", "满意", "基本满意", "不满意", "非常不满意"]
    assert [is_bad(level) for level in LEVELS] == [False, False, False, True, True]
