"""Cases on their way to the responsible district, and news on its way to either side.

`subscribe` registers what a step sets off (news, a delivery); `make_handlers` is what the
receiving side does with each outbox message. Each of those runs inside
`outbox.processing.process`, in the transaction that also marks the message done and records
it in the inbox, so its effects happen once.
"""

import time

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from service.cases.events import EVENTS, EventType
from service.cases.lifecycle import Action, Side, Status, decide
from service.cases.models import Case, CaseEvent, Notification
from service.cases.steps import Handlers, UnitOfWork
from service.cases.timeline import (
    Actor,
    connector_actor,
    district_system_actor,
    read_heads,
    relay_actor,
)
from service.clock import now_utc
from service.clocks.tracking import read_clocks
from service.crypto import FieldCipher
from service.districts.connectors import admit, has_own_system, http_target, record
from service.districts.http import Misconfigured, post_event
from service.districts.payloads import case_payload, file_links
from service.materials.checks import check_files
from service.materials.store import Store
from service.outbox.models import OutboxMessage
from service.outbox.names import (
    DELIVER_CASE,
    DELIVER_SUPPLEMENT,
    DRAINED_FLAG,
    NOTIFY,
    district_queue,
)
from service.outbox.policy import DeliveryPolicy
from service.outbox.processing import (
    BatchHandler,
    Handler,
    OneByOne,
    Permanent,
    Unavailable,
    enqueue,
)

SYSTEM = frozenset({Side.SYSTEM})


def notify(
    session: Session,
    case: Case,
    side: Side,
    seq: int,
    kind: str,
    message_zh: str,
    policy: DeliveryPolicy,
) -> list[OutboxMessage]:
    """News of a case for one side; returns the outbox rows to publish after commit.

    News that stays in Tongban (for the accepting window, or for a back office we serve) is
    written in the caller's transaction, so it happens exactly when the step does and costs no
    task of its own. Only news for a district's own system goes through the outbox, to be
    POSTed there like everything else it is sent.
    """
    accepting = side == Side.ACCEPTING
    district = case.accepting_district if accepting else case.responsible_district
    center_id = case.accepting_center_id if accepting else None
    if center_id is not None or not has_own_system(session, district):
        session.add(
            Notification(
                district_code=district,
                center_id=center_id,
                case_id=case.id,
                event_seq=seq,
                kind=kind,
                message_zh=message_zh,
            )
        )
        return []
    message = enqueue(
        session,
        task=NOTIFY,
        queue=district_queue(district),
        payload={
            "case_id": case.id,
            "seq": seq,
            "district": district,
            "center_id": None,
            "kind": kind,
            "message_zh": message_zh,
        },
        case_id=case.id,
        policy=policy,
    )
    return [message]


def _receive(uow: UnitOfWork, case: Case, actor: Actor, via: Action) -> int:
    now = now_utc()
    if via == Action.FORWARD:
        uow.record(
            case,
            EventType.FORWARDED,
            status_to=decide(Status(case.status), Action.FORWARD, SYSTEM),
            actor=relay_actor(case.accepting_district),
            at=now,
        )
    status = decide(Status(case.status), Action.RECEIVE, SYSTEM)
    return uow.record(case, EventType.RECEIVED, status_to=status, actor=actor, at=now).seq


def subscribe(handlers: Handlers) -> None:
    """What the districts' side does when a case moves: tells the other side (the news of
    each event's row in `EVENTS`), and queues what must travel to the responsible district."""

    @handlers.after()
    def tell_the_other_side(uow: UnitOfWork, case: Case, event: CaseEvent) -> None:
        news = EVENTS[EventType(event.type)].news
        # A case withdrawn before it was forwarded never reached the other side: nobody to tell.
        if news is None or (
            event.type == EventType.WITHDRAWN and event.status_from == Status.SUBMITTED
        ):
            return
        text_zh = news.text_zh.format(no=case.case_no)
        uow.queue(notify(uow.session, case, news.side, event.seq, news.kind, text_zh, uow.policy))

    @handlers.after(EventType.SUBMITTED)
    def send_new_case(uow: UnitOfWork, case: Case, event: CaseEvent) -> None:
        session = uow.session
        # Cases for a back office we serve are drained in batches; a district's own system gets
        # each in a task of its own, so its calls run side by side and time out alone. No
        # autoflush here, so that the case's rows are written together at the end.
        with session.no_autoflush:
            drained = not has_own_system(session, case.responsible_district)
        payload = {"case_id": case.id, "case_no": case.case_no, DRAINED_FLAG: drained}
        uow.queue([_deliver(uow, case, DELIVER_CASE, payload)])

    @handlers.after(EventType.SUPPLEMENTED)
    def send_supplement(uow: UnitOfWork, case: Case, event: CaseEvent) -> None:
        payload = {"case_id": case.id, "case_no": case.case_no}
        uow.queue([_deliver(uow, case, DELIVER_SUPPLEMENT, payload)])


def _deliver(uow: UnitOfWork, case: Case, task: str, payload: dict) -> OutboxMessage:
    return enqueue(
        uow.session,
        task=task,
        queue=district_queue(case.responsible_district),
        payload=payload,
        case_id=case.id,
        policy=uow.policy,
    )


def _latest_seq(session: Session, case: Case) -> int:
    return session.scalar(select(func.max(CaseEvent.seq)).where(CaseEvent.case_id == case.id))


def make_handlers(
    policy: DeliveryPolicy, cipher: FieldCipher, store: Store
) -> tuple[dict[str, Handler], BatchHandler]:
    """Task name -> handler, for the workers to register, and the batch handler of the task
    that is drained (`outbox.names.DRAINED_TASK`).

    A district served by Tongban's own back office (the internal connector) gets cases in its
    queue; a district with its own system gets each event POSTed to it, signed, before the case
    counts as received. The connector is read on every message, so an admin's change applies
    to the next one.
    """

    def send(session: Session, message: OutboxMessage, code: str, event: str, payload) -> bool:
        """POST to the district's system if it has one; False when the back office is ours.

        `payload(target)` builds the body only when there is somewhere to send it.
        """
        target = http_target(session, cipher, code)
        if target is None:
            return False
        bind = session.get_bind()
        admit(bind, code, policy)
        try:
            post_event(target, event, payload(target), str(message.id))
        except Unavailable as err:
            record(bind, code, policy, reachable=False, error=str(err))
            raise
        except (Permanent, Misconfigured) as err:  # it answered: no reason to open the breaker
            record(bind, code, policy, reachable=True, error=str(err))
            raise
        record(bind, code, policy, reachable=True)
        return True

    def _with_files(case: Case, target) -> dict:
        session = Session.object_session(case)
        return {
            **case_payload(session, cipher, case),
            "files": file_links(session, target.secret, case, int(time.time())),
        }

    def withdrawn_news(session: Session, case: Case) -> list[OutboxMessage]:
        text = f"办件 {case.case_no} 已由申请人撤回"
        seq = _latest_seq(session, case)
        return notify(session, case, Side.RESPONSIBLE, seq, "withdrawn", text, policy)

    def deliver_case(session: Session, message: OutboxMessage) -> list[OutboxMessage]:
        case = session.get(Case, message.payload["case_id"])
        if case.status != Status.SUBMITTED:
            # Withdrawn before it left. An earlier try that failed may still have reached a
            # district system (a timeout can hide a success): tell it, to be sure.
            tried = message.attempts > 0 or message.last_error is not None
            if tried and http_target(session, cipher, case.responsible_district):
                return withdrawn_news(session, case)
            return []
        code = case.responsible_district
        # Every scan is checked before the case counts as received: here for our own back office,
        # and before it leaves for a district system (which checks what it downloads, too).
        check_files(session, store, [case])
        remote = send(session, message, code, "case.created", lambda t: _with_files(case, t))
        session.refresh(case, with_for_update=True)
        if case.status != Status.SUBMITTED:
            # Withdrawn while on its way: a district system that has it must hear so (our own
            # back office never saw it).
            return withdrawn_news(session, case) if remote else []
        return arrived(session, case, remote)

    def arrived(session: Session, case: Case, remote: bool) -> list[OutboxMessage]:
        """The case is at its responsible district: its timeline, clocks and news."""
        code = case.responsible_district
        actor = district_system_actor(code) if remote else connector_actor(code)
        uow = UnitOfWork(session, policy)
        seq = _receive(uow, case, actor, Action.FORWARD)
        news = [(Side.ACCEPTING, "received", f"办件 {case.case_no} 已由办理地接收")]
        if not remote:
            news.append((Side.RESPONSIBLE, "new_case", f"新办件 {case.case_no}：{case.item_name}"))
        for side, kind, text in news:
            uow.queue(notify(session, case, side, seq, kind, text, policy))
        return uow.outbox

    def deliver_cases(session: Session, messages: list[OutboxMessage]) -> list[OutboxMessage]:
        """New cases for back offices Tongban serves, all in the caller's transaction: the
        same steps as `deliver_case`, with each kind of read made once for the batch."""
        by_id = select(Case).where(Case.id.in_([m.payload["case_id"] for m in messages]))
        cases = session.scalars(by_id).all()
        if any(has_own_system(session, case.responsible_district) for case in cases):
            # Its connector changed since these were written: as deliver_case would send them.
            raise OneByOne("a district system takes each case in a request of its own")
        # Scans are read back before the cases are locked, as deliver_case does, so a slow
        # store holds up no window's withdrawal or upload.
        check_files(session, store, [case for case in cases if case.status == Status.SUBMITTED])
        locked = by_id.order_by(Case.id).with_for_update().execution_options(populate_existing=True)
        # The others were withdrawn before they left; our own back office never saw them.
        arriving = [case for case in session.scalars(locked) if case.status == Status.SUBMITTED]
        read_heads(session, [case.id for case in arriving])
        read_clocks(session, [case.id for case in arriving])
        # With the heads and clocks known, the steps read nothing more: their rows are flushed
        # together at commit, each table's in as few statements as it takes.
        return [message for case in arriving for message in arrived(session, case, False)]

    def deliver_supplement(session: Session, message: OutboxMessage) -> list[OutboxMessage]:
        case = session.get(Case, message.payload["case_id"])
        if case.status != Status.SUPPLEMENTED:
            return []  # withdrawn meanwhile
        code = case.responsible_district
        handed_in = next(
            (e.data.get("materials", []) for e in reversed(case.events) if e.type == "supplement"),
            [],
        )
        check_files(session, store, [case])
        remote = send(
            session,
            message,
            code,
            "case.supplemented",
            lambda t: {
                "case_no": case.case_no,
                "materials": handed_in,
                "files": file_links(session, t.secret, case, int(time.time())),
            },
        )
        session.refresh(case, with_for_update=True)
        if case.status != Status.SUPPLEMENTED:
            return []
        actor = district_system_actor(code) if remote else connector_actor(code)
        uow = UnitOfWork(session, policy)
        seq = _receive(uow, case, actor, Action.RECEIVE)
        if not remote:
            text = f"办件 {case.case_no} 已补正材料，请继续办理"
            uow.queue(notify(session, case, Side.RESPONSIBLE, seq, "supplemented", text, policy))
        return uow.outbox

    def apply_notification(session: Session, message: OutboxMessage) -> None:
        p = message.payload
        if p["center_id"] is None:  # news for the district's back office
            case_no = session.scalar(select(Case.case_no).where(Case.id == p["case_id"]))
            payload = {"case_no": case_no, "kind": p["kind"], "message_zh": p["message_zh"]}
            if send(session, message, p["district"], "case.news", lambda _t: payload):
                return
        session.add(
            Notification(
                district_code=p["district"],
                center_id=p["center_id"],
                case_id=p["case_id"],
                event_seq=p["seq"],
                kind=p["kind"],
                message_zh=p["message_zh"],
            )
        )

    handlers = {
        DELIVER_CASE: deliver_case,
        DELIVER_SUPPLEMENT: deliver_supplement,
        NOTIFY: apply_notification,
    }
    return handlers, deliver_cases
