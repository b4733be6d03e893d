"""Builders shared by the tests."""

import copy
import random
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis
from sqlalchemy import event, text

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def make_id_number(region: str = "530102", birth: str = "19850612") -> str:
    """A resident ID number with a correct GB 11643 check digit."""
    body = region + birth + f"{random.randint(0, 999):03d}"
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, _WEIGHTS, strict=True)) % 11]
    return body + check


def with_wrong_check_digit(id_number: str) -> str:
    wrong = "0" if id_number[-1] != "0" else "1"
    return id_number[:-1] + wrong


# 社会保障卡申领: decided where the applicant is insured (参保地); covered by 五华–富民.
SOCIAL_SECURITY_CARD = "000112001000"


def application(**overrides) -> dict:
    """A valid application for a 社保卡 at 富民 for someone insured in 五华."""
    body = {
        "item_code": SOCIAL_SECURITY_CARD,
        "applicant": {
            "name": "张𠈌",
            "id_number": make_id_number(),
            "phone": "13912345678",
            "address": "云南省昆明市五华区华山西路1号",
        },
        "facts": {"insured_district": "530102"},
        "materials": [
            {"code": "M01", "originals": 1, "copies": 1},
            {"code": "M03"},
            {"code": "M04"},
        ],
        "result_delivery": "window",
    }
    merged = copy.deepcopy(body)
    for key, value in overrides.items():
        merged[key] = value
    return merged


def submit(client, headers: dict, body: dict, key: str | None = None):
    return client.post(
        "/api/v1/applications",
        json=body,
        headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex},
    )


def new_delivered_case(client, window: dict, database, settings) -> str:
    """Submit a new application at the window and deliver it in this process; its number."""
    body = application()
    body["applicant"]["id_number"] = make_id_number()
    response = submit(client, window, body)
    assert response.status_code == 201, response.get_json()
    case_no = response.get_json()["case_no"]
    deliver_inline(database, settings, case_no)
    return case_no


def redis_down():
    """A Redis client whose server is not there. It fails at once: by default redis-py retries
    a refused connection with back-off, seconds per command, which is time a test of "the
    broker is down" spends for nothing."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis(
        host="127.0.0.1", port=1, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0)
    )


def count(engine, table: str) -> int:
    with engine.connect() as conn:
        return conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one()


def scalar(engine, sql: str, **params):
    """One value from a query of the test database, for checking what a request stored."""
    with engine.connect() as conn:
        return conn.execute(text(sql), params).scalar_one()


def read_case(client, headers: dict, case_no: str) -> dict:
    response = client.get(f"/api/v1/applications/{case_no}", headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def act(client, headers: dict, case_no: str, step: str, version: int | None = None, **body):
    """POST a case step with the version just read (or the one given)."""
    if version is None:
        version = read_case(client, headers, case_no)["version"]
    return client.post(
        f"/api/v1/cases/{case_no}/{step}", json={"version": version, **body}, headers=headers
    )


def status_of(engine, case_no: str) -> str:
    with engine.connect() as conn:
        return conn.execute(
            text("SELECT status FROM cases WHERE case_no = :n"), {"n": case_no}
        ).scalar_one()


def delivery_error(engine, case_no) -> str | None:
    """The last error recorded on the case's delivery, if any."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT o.last_error FROM outbox o JOIN cases c ON c.id = o.case_id"
                " WHERE c.case_no = :n AND o.task = 'tongban.deliver_case'"
            ),
            {"n": case_no},
        ).scalar_one()


def event_types(engine, case_no: str) -> list[str]:
    with engine.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT e.type FROM case_events e JOIN cases c ON c.id = e.case_id "
                    "WHERE c.case_no = :n ORDER BY e.seq"
                ),
                {"n": case_no},
            ).scalars()
        )


def outbox_of(engine, case_no: str, task: str = "tongban.deliver_case"):
    """(id, status, attempts) of the case's outbox row for `task`."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT o.id, o.status, o.attempts FROM outbox o JOIN cases c ON c.id = o.case_id "
                "WHERE c.case_no = :n AND o.task = :t"
            ),
            {"n": case_no, "t": task},
        ).one()


def notifications_of(engine, case_no: str) -> int:
    """How many notifications the case has made, for either side."""
    with engine.connect() as conn:
        return conn.execute(
            text(
                "SELECT count(*) FROM notifications n JOIN cases c ON c.id = n.case_id "
                "WHERE c.case_no = :n"
            ),
            {"n": case_no},
        ).scalar_one()


def waiting_on_lock(engine) -> bool:
    """Whether some session of the test database is waiting for a lock."""
    with engine.connect() as conn:
        return bool(
            conn.execute(
                text(
                    "SELECT count(*) FROM pg_stat_activity "
                    "WHERE wait_event_type = 'Lock' AND datname = current_database()"
                )
            ).scalar_one()
        )


def deliver_inline(database, settings, case_no: str, publisher=None) -> None:
    """Apply a case's pending deliveries in this process, the way a worker would: for tests that
    set the clock with time-machine, which a worker process would not share, and for rule tests
    in a rolled-back transaction (`database` is then a tests.isolation.RolledBack, and
    `publisher` the app's recording one, so no follow-up reaches the broker)."""
    from service.crypto import FieldCipher
    from service.districts.delivery import make_handlers
    from service.materials.storage import open_store
    from service.outbox.names import DELIVER_CASE, DELIVER_SUPPLEMENT
    from service.outbox.policy import DeliveryPolicy
    from service.outbox.processing import process
    from service.outbox.publisher import Publisher

    policy = DeliveryPolicy.from_settings(settings)
    handlers, _ = make_handlers(policy, FieldCipher(settings.data_key), open_store(settings))
    with database.sessionmaker() as session:
        pending = session.execute(
            text(
                "SELECT o.id, o.task FROM outbox o JOIN cases c ON c.id = o.case_id"
                " WHERE c.case_no = :n AND o.status = 'pending' AND o.task IN (:a, :b)"
            ),
            {"n": case_no, "a": DELIVER_CASE, "b": DELIVER_SUPPLEMENT},
        ).all()
    assert pending, f"nothing to deliver for {case_no}"
    for message_id, task in pending:
        outcome = process(
            database.sessionmaker,
            str(message_id),
            handlers[task],
            policy,
            publisher or Publisher(settings.redis_url),
        )
        assert outcome == "applied", f"delivery of {case_no}: {outcome}"


@contextmanager
def statements_sent(engine) -> Iterator[list[str]]:
    """The SQL statements `engine` sends while the block runs, in order."""
    seen: list[str] = []

    def keep(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", keep)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", keep)


def found_in_redis(redis_url: str, needles: list[str]) -> list[str]:
    """Every Redis key (of the run's database) whose name or value holds one of `needles`."""
    r = redis.Redis.from_url(redis_url)
    readers = {
        b"string": lambda k: [r.get(k)],
        b"hash": lambda k: [b for pair in r.hgetall(k).items() for b in pair],
        b"list": lambda k: r.lrange(k, 0, -1),
        b"set": lambda k: list(r.smembers(k)),
        b"zset": lambda k: r.zrange(k, 0, -1),
    }
    found = []
    for key in r.scan_iter(count=500):
        values = [key, *readers.get(r.type(key), lambda _k: [])(key)]
        blob = b"\0".join(v for v in values if isinstance(v, bytes))
        found += [f"redis {key!r}" for n in needles if n.encode() in blob]
    return found


def found_in_files(root: Path, needles: list[str]) -> list[str]:
    """Every file under the file store's root holding one of `needles` (or named by one)."""
    found = []
    for path in (p for p in root.rglob("*") if p.is_file()):
        blob = path.name.encode() + b"\0" + path.read_bytes()
        found += [f"file {path.name}" for n in needles if n.encode() in blob]
    return found
