"""The event table: every timeline event type has its row, and the rows say what the rest of
the system reads from them (clocks, news, figures, district callbacks)."""

from datetime import UTC, datetime

import pytest

from service.cases.events import CALLBACKS, EVENTS, MEASURES, EventType, Kind, event_of
from service.cases.lifecycle import TRANSITIONS, Action, Side, Status
from service.cases.timeline import Actor, append_event


def test_every_event_type_has_a_row_with_a_chinese_label():
    assert set(EVENTS) == set(EventType)
    for event, info in EVENTS.items():
        assert any("\u4e00" <= ch <= "\u9fff" for ch in info.label_zh), event


def test_every_step_people_take_records_one_event_of_its_own():
    taken = [a for a, (owner, _sources, _to) in TRANSITIONS.items() if owner != Side.SYSTEM]
    assert {event_of(a) for a in taken} == {e for e, i in EVENTS.items() if i.action}
    assert len({event_of(a) for a in taken}) == len(taken)


def test_the_monthly_figures_keep_their_export_order():
    # A closed month's export is reproducible byte for byte: its columns never move.
    assert list(MEASURES) == [
        "submitted",
        "forwarded",
        "accepted",
        "supplements_requested",
        "rejected",
        "withdrawn",
        "completed",
    ]


def test_district_systems_report_the_responsible_sides_steps():
    assert set(CALLBACKS) == {
        "received",
        "accepted",
        "supplement_requested",
        "rejected",
        "completed",
    }
    for name, event in CALLBACKS.items():
        action = EVENTS[event].action
        assert action is None or TRANSITIONS[action][0] == Side.RESPONSIBLE, name


def test_news_goes_to_the_other_side_and_names_the_case():
    for event, info in EVENTS.items():
        if info.news is None:
            continue
        owner = TRANSITIONS[info.action][0]
        assert info.news.side != owner, event
        assert "{no}" in info.news.text_zh


def test_each_case_deadline_is_started_by_one_event_and_ended_by_another():
    starts = [e for e, i in EVENTS.items() if i.clocks.starts is not None]
    assert sorted(EVENTS[e].clocks.starts for e in starts) == sorted(
        [Kind.FORWARD, Kind.ACCEPT, Kind.COMPLETE]
    )
    for kind in (Kind.FORWARD, Kind.ACCEPT, Kind.COMPLETE):
        assert any(kind in i.clocks.meets for i in EVENTS.values()), kind
    withdrawn = EVENTS[EventType.WITHDRAWN].clocks
    assert withdrawn.ends_pause and set(withdrawn.cancels) == {
        Kind.FORWARD,
        Kind.ACCEPT,
        Kind.COMPLETE,
    }


def test_an_unknown_event_type_is_refused_before_anything_is_written():
    actor = Actor("system", None, "Tongban", None)
    with pytest.raises(ValueError):
        # No session is touched: the type is checked first.
        append_event(
            None,  # type: ignore[arg-type]
            None,  # type: ignore[arg-type]
            type="accepted_by_mistake",
            status_to=Status.ACCEPTED,
            actor=actor,
            at=datetime.now(UTC),
        )


def test_stored_values_never_change():
    # Hash-chained into every timeline and counted by the statistics.
    assert EventType.ACCEPTED == "accept" and EventType.SUPPLEMENT_REQUESTED == "request_supplement"
    assert {a.value for a in Action} - {"forward", "receive"} <= {e.value for e in EventType}
