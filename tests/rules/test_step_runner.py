"""The step runner (service/cases/steps.py): one transaction per step, handlers in it,
publishing only after the commit, nothing left behind by a refusal."""

import pytest
from sqlalchemy import func, select

from service.cases.actions import ActionInvalid
from service.cases.events import EventType
from service.cases.models import Case, CaseEvent
from service.cases.steps import Handlers, HandlersMissing, UnitOfWork
from service.cases.timeline import relay_actor
from service.clock import now_utc
from service.outbox.models import OutboxMessage
from service.outbox.names import DELIVER_SUPPLEMENT
from service.outbox.policy import DeliveryPolicy
from tests.helpers import application, submit


class Watching:
    """A publisher that notes whether the session was still in a transaction when called."""

    def __init__(self, session):
        self.session, self.calls = session, []

    def publish(self, messages):
        self.calls.append(([m.id for m in messages], self.session.in_transaction()))


@pytest.fixture
def case_no(client, terminal):
    return submit(client, terminal("FM-01"), application()).get_json()["case_no"]


@pytest.fixture
def policy(settings):
    return DeliveryPolicy.from_settings(settings)


def _locked(session, case_no):
    return session.scalar(select(Case).where(Case.case_no == case_no).with_for_update())


def _events(session, case_no):
    stmt = select(func.count()).select_from(CaseEvent).join(Case).where(Case.case_no == case_no)
    return session.scalar(stmt)


def test_handlers_run_in_the_step_and_publishing_waits_for_the_commit(arrange, case_no, policy):
    with arrange() as session:
        before = _events(session, case_no)
        publisher = Watching(session)
        with UnitOfWork(session, policy, publisher) as uow:
            case = _locked(session, case_no)
            event = uow.record(
                case,
                EventType.SUPPLEMENTED,
                actor=relay_actor(case.accepting_district),
                at=now_utc(),
                data={"materials": []},
            )
            # The districts' handler queued the delivery in this transaction...
            queued = [m.id for m in uow.outbox]
            assert len(queued) == 1
            assert publisher.calls == []  # ...and nothing is published before the commit
        assert publisher.calls == [(queued, False)]
        assert _events(session, case_no) == before + 1
        message = session.get(OutboxMessage, queued[0])
        assert (message.task, message.case_id) == (DELIVER_SUPPLEMENT, event.case_id)


def test_a_refused_step_leaves_nothing_and_publishes_nothing(arrange, case_no, policy):
    with arrange() as session:
        before = _events(session, case_no)
        queued_before = session.scalar(select(func.count()).select_from(OutboxMessage))
        publisher = Watching(session)
        with pytest.raises(ActionInvalid) as refused, UnitOfWork(session, policy, publisher) as uow:
            case = _locked(session, case_no)
            # The materials package's check refuses a scan that is not this case's.
            uow.record(
                case,
                EventType.SUPPLEMENTED,
                actor=relay_actor(case.accepting_district),
                at=now_utc(),
                data={"materials": [{"code": "M01", "files": [2_000_000_000]}]},
            )
        assert refused.value.field == "materials"
        assert publisher.calls == []
        assert _events(session, case_no) == before
        assert session.scalar(select(func.count()).select_from(OutboxMessage)) == queued_before


def test_a_case_never_changes_with_nobody_listening(arrange, case_no, policy):
    with arrange() as session:
        before = _events(session, case_no)
        uow = UnitOfWork(session, policy, handlers=Handlers())
        with pytest.raises(HandlersMissing):
            uow.record(
                _locked(session, case_no),
                EventType.CLAIMED,
                actor=relay_actor("530124"),
                at=now_utc(),
            )
        assert _events(session, case_no) == before


def test_handlers_see_the_event_of_their_type_in_registration_order(arrange, case_no, policy):
    handlers, seen = Handlers(), []

    @handlers.before(EventType.CLAIMED)
    def enrich(uow, case, at, data):
        seen.append("before")
        return {"checked": True}

    @handlers.after(EventType.CLAIMED)
    def first(uow, case, event):
        seen.append(("claimed", event.type, event.data["checked"]))

    @handlers.after()
    def every(uow, case, event):
        seen.append(("any", event.type))

    @handlers.after(EventType.ACCEPTED)
    def other(uow, case, event):
        seen.append("never")

    handlers.installed = True
    with arrange() as session:
        with UnitOfWork(session, policy, handlers=handlers) as uow:
            case = _locked(session, case_no)
            status, version = case.status, case.version
            uow.record(case, EventType.CLAIMED, actor=relay_actor("530124"), at=now_utc())
        assert seen == ["before", ("claimed", "claimed", True), ("any", "claimed")]
        # Work on a case that is not a status change leaves its status and version alone.
        session.refresh(case)
        assert (case.status, case.version) == (status, version)
