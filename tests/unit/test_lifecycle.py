"""The state machine: who may do what, from which status."""

import pytest

from service.cases.lifecycle import (
    ACTION_ZH,
    STATUS_ZH,
    Action,
    Side,
    Status,
    TransitionRefused,
    allowed_actions,
    decide,
)

pytestmark = pytest.mark.unit

A = frozenset({Side.ACCEPTING})
R = frozenset({Side.RESPONSIBLE})
SYS = frozenset({Side.SYSTEM})
BOTH = A | R


def walk(steps):
    status = Status.SUBMITTED
    for action, sides in steps:
        status = decide(status, action, sides)
    return status


def test_happy_path_with_a_supplement_round_trip():
    assert (
        walk(
            [
                (Action.FORWARD, SYS),
                (Action.RECEIVE, SYS),
                (Action.REQUEST_SUPPLEMENT, R),
                (Action.SUPPLEMENT, A),
                (Action.RECEIVE, SYS),
                (Action.ACCEPT, R),
                (Action.COMPLETE, R),
                (Action.DELIVER_RESULT, A),
                (Action.CLOSE, A),
            ]
        )
        == Status.CLOSED
    )


def test_rejection_then_close():
    assert (
        walk([(Action.FORWARD, SYS), (Action.RECEIVE, SYS), (Action.REJECT, R), (Action.CLOSE, A)])
        == Status.CLOSED
    )


def test_only_the_owner_takes_a_step():
    with pytest.raises(TransitionRefused) as err:
        decide(Status.RECEIVED, Action.ACCEPT, A)
    assert err.value.code == "not-your-step" and "办理地" in err.value.reason_zh
    with pytest.raises(TransitionRefused):
        decide(Status.SUPPLEMENT_REQUESTED, Action.SUPPLEMENT, R)


def test_a_district_on_both_sides_takes_both_sides_steps():
    assert decide(Status.RECEIVED, Action.ACCEPT, BOTH) == Status.ACCEPTED
    assert decide(Status.COMPLETED, Action.DELIVER_RESULT, BOTH) == Status.RESULT_DELIVERED


@pytest.mark.parametrize("status", [Status.COMPLETED, Status.RESULT_DELIVERED, Status.CLOSED])
def test_no_withdrawal_after_completion(status):
    with pytest.raises(TransitionRefused) as err:
        decide(status, Action.WITHDRAW, A)
    assert err.value.code == "invalid-transition"


def test_invalid_transition_says_which_statuses_allow_it():
    with pytest.raises(TransitionRefused) as err:
        decide(Status.SUBMITTED, Action.COMPLETE, R)
    assert "accepted" in err.value.reason and "已收件" in err.value.reason_zh


def test_allowed_actions():
    assert set(allowed_actions(Status.RECEIVED, R)) == {
        Action.ACCEPT,
        Action.REQUEST_SUPPLEMENT,
        Action.REJECT,
    }
    assert allowed_actions(Status.RECEIVED, A) == [Action.WITHDRAW]
    assert allowed_actions(Status.CLOSED, BOTH) == []


def test_every_status_and_every_step_has_its_chinese_name():
    # A refusal names both in Chinese; a missing one would be a 500 instead of a 409.
    assert set(STATUS_ZH) == set(Status) and all(STATUS_ZH.values())
    assert set(ACTION_ZH) == set(Action) and all(ACTION_ZH.values())


def test_every_step_people_take_has_its_body_schema():
    # Its schema is what makes its route, its page form and its callback (casework/api.py).
    from service.cases.lifecycle import TRANSITIONS
    from service.cases.schemas import STEP_SCHEMAS

    taken_by_people = {a for a, (owner, _from, _to) in TRANSITIONS.items() if owner != Side.SYSTEM}
    assert set(STEP_SCHEMAS) == taken_by_people
