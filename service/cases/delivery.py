"""What the receiving side does with each outbox message (the internal connector).

Each handler runs inside `outbox.processing.process`, in the transaction that also marks the
message done and records it in the inbox, so its effects happen once.
"""

from sqlalchemy.orm import Session

from service.cases.lifecycle import Action, Side, Status, decide
from service.cases.models import Case, Notification
from service.cases.timeline import Actor, append_event, connector_actor, relay_actor
from service.clock import now_utc
from service.clocks.tracking import track
from service.outbox.models import OutboxMessage
from service.outbox.names import DELIVER_CASE, DELIVER_SUPPLEMENT, NOTIFY, district_queue
from service.outbox.policy import ClockRules, DeliveryPolicy
from service.outbox.processing import Handler, enqueue

SYSTEM = frozenset({Side.SYSTEM})


def notify(
    session: Session,
    case: Case,
    side: Side,
    seq: int,
    kind: str,
    message_zh: str,
    policy: DeliveryPolicy,
) -> OutboxMessage:
    """Queue news of a case for one side, through the outbox like everything else."""
    district = case.accepting_district if side == Side.ACCEPTING else case.responsible_district
    return enqueue(
        session,
        task=NOTIFY,
        queue=district_queue(district),
        payload={
            "case_id": case.id,
            "seq": seq,
            "district": district,
            "center_id": case.accepting_center_id if side == Side.ACCEPTING else None,
            "kind": kind,
            "message_zh": message_zh,
        },
        case_id=case.id,
        policy=policy,
    )


def _receive(session: Session, case: Case, actor: Actor, via: Action, rules: ClockRules) -> int:
    now = now_utc()
    if via == Action.FORWARD:
        status = decide(Status(case.status), Action.FORWARD, SYSTEM)
        append_event(
            session,
            case,
            type="forwarded",
            status_to=status,
            actor=relay_actor(case.accepting_district),
            at=now,
        )
        case.status = status
        track(session, case, "forwarded", now, rules)
    status = decide(Status(case.status), Action.RECEIVE, SYSTEM)
    event = append_event(session, case, type="received", status_to=status, actor=actor, at=now)
    case.status, case.updated_at = status, now
    track(session, case, "received", now, rules)
    return event.seq


def make_handlers(policy: DeliveryPolicy) -> dict[str, Handler]:
    """Task name -> handler, for the workers to register."""

    def deliver_case(session: Session, message: OutboxMessage) -> list[OutboxMessage]:
        case = session.get(Case, message.payload["case_id"], with_for_update=True)
        if case.status != Status.SUBMITTED:
            return []  # withdrawn before it left, nothing to deliver
        seq = _receive(
            session, case, connector_actor(case.responsible_district), Action.FORWARD, policy.clocks
        )
        news = [
            (Side.RESPONSIBLE, "new_case", f"新办件 {case.case_no}：{case.item_name}"),
            (Side.ACCEPTING, "received", f"办件 {case.case_no} 已由办理地接收"),
        ]
        return [notify(session, case, side, seq, kind, text, policy) for side, kind, text in news]

    def deliver_supplement(session: Session, message: OutboxMessage) -> list[OutboxMessage]:
        case = session.get(Case, message.payload["case_id"], with_for_update=True)
        if case.status != Status.SUPPLEMENTED:
            return []  # withdrawn meanwhile
        seq = _receive(
            session, case, connector_actor(case.responsible_district), Action.RECEIVE, policy.clocks
        )
        text = f"办件 {case.case_no} 已补正材料，请继续办理"
        return [notify(session, case, Side.RESPONSIBLE, seq, "supplemented", text, policy)]

    def apply_notification(session: Session, message: OutboxMessage) -> None:
        p = message.payload
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

    return {
        DELIVER_CASE: deliver_case,
        DELIVER_SUPPLEMENT: deliver_supplement,
        NOTIFY: apply_notification,
    }
