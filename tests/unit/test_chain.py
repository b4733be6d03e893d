"""The timeline's keyed hash chain (service/audit/chain.py), without a database."""

from datetime import UTC, datetime

import pytest

from service.audit import chain

pytestmark = pytest.mark.unit


def _events(first_id: int, linker) -> list[dict]:
    events, prev = [], chain.GENESIS
    for seq in (1, 2, 3):
        event = {
            "id": first_id + seq,
            "case_id": 7,
            "seq": seq,
            "type": "submitted" if seq == 1 else "claimed",
            "status_from": None,
            "status_to": "submitted",
            "actor_kind": "terminal",
            "actor_id": 1,
            "actor_name": "窗口",
            "district_code": "530124",
            "reason": None,
            "data": {},
            "occurred_at": datetime(2026, 12, 6, 8, seq, tzinfo=UTC),
        }
        event["prev_hash"], event["hash"] = prev, linker(prev, event)
        events.append(event)
        prev = event["hash"]
    return events


@pytest.fixture(autouse=True)
def key():
    chain.use_key(b"k" * 32)


def test_keyed_links_hold_and_depend_on_the_key():
    events = _events(100, chain.link)
    assert chain.first_break(events) is None
    chain.use_key(b"x" * 32)
    assert chain.first_break(events) == (events[0], "its content does not match its hash")


def test_plain_links_are_accepted_only_for_events_written_before_the_cutover():
    old = _events(100, chain.plain_link)
    assert chain.first_break(old, last_plain_id=103) is None
    # The same plain links on events after the cutover: what an editor without the key writes.
    assert chain.first_break(old, last_plain_id=101)[0]["seq"] == 2


def test_an_edit_is_named_however_the_links_after_it_are_recomputed_without_the_key():
    events = _events(100, chain.link)
    events[1]["reason"] = "改过"
    events[1]["hash"] = chain.plain_link(events[1]["prev_hash"], events[1])
    events[2]["prev_hash"] = events[1]["hash"]
    events[2]["hash"] = chain.plain_link(events[2]["prev_hash"], events[2])
    assert chain.first_break(events) == (events[1], "its content does not match its hash")


def test_a_short_key_is_refused():
    with pytest.raises(ValueError):
        chain.use_key(b"short")
