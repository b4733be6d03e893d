"""Applicants' personal data at rest and on show: nothing in clear in any table after a whole
lifecycle, names masked for everyone unless a party asks (and the timeline says so),
ciphertexts bound to their row, and keys rotated, re-encrypted and retired."""

import pytest
import redis
from cryptography.exceptions import InvalidTag
from sqlalchemy import select, text

from service.accounts import totp
from service.cases.applicant import applicant_of, name_hash
from service.cases.models import Case
from service.crypto import FieldCipher, UnknownKey, derived_lookup_key, key_id_of
from service.rekey import KeyInUse, check_retirable, key_usage, plain_names_left, reencrypt
from service.sealed import CASE_PHONE
from tests.helpers import (
    act,
    application,
    event_types,
    found_in_files,
    found_in_redis,
    make_id_number,
    read_case,
    scalar,
    submit,
)

NAME, PHONE, ADDRESS = "欧阳娜娜", "13987654321", "云南省昆明市五华区翠湖南路77号"


def _personal(id_number: str) -> dict:
    return {"name": NAME, "id_number": id_number, "phone": PHONE, "address": ADDRESS}


def _where_found(connection, needles: list[str]) -> list[str]:
    """Every table.column of the public schema holding one of `needles` in clear: text-like
    columns cast to text, byte columns searched for the UTF-8 bytes."""
    columns = connection.execute(
        text(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'public' ORDER BY table_name, column_name"
        )
    ).all()
    found = []
    for table, column, data_type in columns:
        if data_type == "bytea":
            test = f"position(convert_to(:v, 'UTF8') in \"{column}\") > 0"
        else:
            test = f'position(:v in "{column}"::text) > 0'
        for needle in needles:
            hit = connection.scalar(
                text(f'SELECT EXISTS (SELECT 1 FROM "{table}" WHERE {test})'), {"v": needle}
            )
            if hit:
                found.append(f"{table}.{column}: {needle[:1]}…")
    return found


def test_no_personal_data_in_clear_anywhere_after_a_whole_lifecycle(
    deliver, client, terminal, staff, engine, settings
):
    window, clerk = terminal("FM-01"), staff("clerk", "530102")
    id_number = make_id_number()
    body = application(applicant=_personal(id_number), result_delivery="mail")
    case_no = submit(client, window, body).get_json()["case_no"]
    deliver(case_no)
    assert act(client, clerk, case_no, "claim").status_code == 200
    assert act(client, clerk, case_no, "accept").status_code == 200
    done = {"outcome": "approved", "document_no": "五社保〔2026〕77号"}
    assert act(client, clerk, case_no, "complete", **done).status_code == 200
    # The reveals a party may ask for write only that they happened.
    assert client.get(f"/api/v1/cases/{case_no}/applicant-name", headers=clerk).status_code == 200
    assert client.get(f"/api/v1/cases/{case_no}/mailing-contact", headers=window).status_code == 200
    mailed = {"method": "mail", "carrier": "中国邮政", "tracking_no": "1180012345678"}
    assert act(client, window, case_no, "deliver-result", **mailed).status_code == 200
    assert event_types(engine, case_no)[-1] == "deliver_result"

    with engine.connect() as connection:
        assert _where_found(connection, [NAME, id_number, PHONE, ADDRESS]) == []
        # The scan does find what is there: the masked name, and the case number.
        assert _where_found(connection, ["欧**娜"]) == ["cases.applicant_name_masked: 欧…"]
    # Nor in Redis (throttles, caches, the broker) or the file store (scans and their names).
    assert found_in_redis(settings.redis_url, [NAME, id_number, PHONE, ADDRESS]) == []
    assert found_in_files(settings.files_dir, [NAME, id_number, PHONE, ADDRESS]) == []
    # The scans do find what is there: a probe of each kind, removed again.
    probe = redis.Redis.from_url(settings.redis_url)
    probe.hset("tongban:test:probe", "v", f"x{PHONE}x")
    assert found_in_redis(settings.redis_url, [PHONE]) == ["redis b'tongban:test:probe'"]
    probe.delete("tongban:test:probe")
    settings.files_dir.mkdir(parents=True, exist_ok=True)
    (settings.files_dir / "probe").write_text(f"x{ADDRESS}x", encoding="utf-8")
    assert found_in_files(settings.files_dir, [ADDRESS]) == ["file probe"]
    (settings.files_dir / "probe").unlink()


def test_the_full_name_only_for_a_party_who_asks_and_it_is_on_the_timeline(
    deliver, client, terminal, staff, engine
):
    window = terminal("FM-01")
    case_no = submit(client, window, application(applicant=_personal(make_id_number()))).get_json()[
        "case_no"
    ]
    deliver(case_no)
    path = f"/api/v1/cases/{case_no}/applicant-name"
    for reader in (window, staff("clerk", "530102"), staff("auditor", None)):
        assert read_case(client, reader, case_no)["applicant"]["name"] == "欧**娜"
    queue = client.get("/api/v1/queue?district=530102", headers=staff("auditor", None))
    # Every name in the queue is masked, this case's as 欧**娜 (other tests' cases are there too).
    names = {c["case_no"]: c["applicant"]["name"] for c in queue.get_json()["cases"]}
    assert names[case_no] == "欧**娜" and all("*" in name for name in names.values())
    assert "name_viewed" not in event_types(engine, case_no)

    for party in (window, staff("clerk", "530102"), staff("supervisor", "530102")):
        shown = client.get(path, headers=party)
        assert shown.status_code == 200 and shown.get_json()["name"] == NAME
        assert shown.headers["Cache-Control"] == "no-store"
    assert event_types(engine, case_no).count("name_viewed") == 3

    for role in ("auditor", "admin", "security_admin", "security_auditor"):
        assert client.get(path, headers=staff(role, None)).status_code == 403
    assert client.get(path, headers=staff("clerk", "530124")).status_code == 404  # accepting
    assert client.get(path, headers=terminal("FM-YD")).status_code == 404  # another window
    assert event_types(engine, case_no).count("name_viewed") == 3
    # The timeline says who looked, never what they saw.
    data = scalar(
        engine,
        "SELECT json_agg(e.data)::text FROM case_events e JOIN cases c ON c.id = e.case_id"
        " WHERE c.case_no = :n AND e.type = 'name_viewed'",
        n=case_no,
    )
    assert NAME not in data


def test_a_ciphertext_moved_to_another_case_does_not_open(client, terminal, app, db):
    window = terminal("FM-01")
    first = submit(client, window, application()).get_json()["case_no"]
    second = submit(client, window, application()).get_json()["case_no"]
    db.execute(
        text(
            "UPDATE cases SET phone_enc = (SELECT phone_enc FROM cases WHERE case_no = :a),"
            " applicant_name_enc = (SELECT applicant_name_enc FROM cases WHERE case_no = :a)"
            " WHERE case_no = :b"
        ),
        {"a": first, "b": second},
    )
    cipher = app.extensions["tongban.cipher"]
    moved = db.scalar(select(Case).where(Case.case_no == second))
    db.refresh(moved)
    with pytest.raises(InvalidTag):
        applicant_of(cipher, moved)
    # The phone's ciphertext in the name's column of its own case does not open either.
    kept = db.scalar(select(Case).where(Case.case_no == first))
    with pytest.raises(InvalidTag):
        cipher.decrypt(kept.phone_enc, CASE_PHONE, second)
    assert applicant_of(cipher, kept).phone == "13912345678"


def _old_style(db, cipher: FieldCipher, case_no: str, name: str) -> None:
    """Make the case look as before this change: the name in clear, the phone a v1 value."""
    db.execute(
        text(
            "UPDATE cases SET applicant_name = :name, applicant_name_enc = NULL,"
            " applicant_name_hash = NULL, applicant_name_masked = NULL, phone_enc = :phone"
            " WHERE case_no = :n"
        ),
        {"name": name, "phone": cipher.encrypt_v1("13912345678", CASE_PHONE), "n": case_no},
    )
    db.commit()


def test_rotate_reencrypt_and_retire_the_old_key(
    client, terminal, staff, app, db, rolled_back, settings, monkeypatch
):
    window = terminal("FM-01")
    old = app.extensions["tongban.cipher"]
    cases = [submit(client, window, application()).get_json()["case_no"] for _ in range(3)]
    _old_style(db, old, cases[0], "李四")
    staff("clerk", "530102")  # someone with an authenticator secret sealed by key 1
    user = db.scalar(text("SELECT max(id) FROM staff_users"))
    from service.accounts.models import StaffUser

    someone = db.get(StaffUser, user)
    secret = totp.enrol(someone, old)
    db.commit()
    assert plain_names_left(db) >= 1

    new_key = bytes(range(32))
    lookup = derived_lookup_key(settings.data_key)
    rotated = FieldCipher({1: settings.data_key, 2: new_key}, current=2, lookup_key=lookup)
    monkeypatch.setitem(app.extensions, "tongban.cipher", rotated)
    # A value written now is under key 2; key 1 still seals everything else.
    fresh = submit(client, window, application()).get_json()["case_no"]
    assert key_id_of(db.scalar(select(Case.phone_enc).where(Case.case_no == fresh))) == 2
    with pytest.raises(KeyInUse, match="reencrypt"):
        check_retirable(db, rotated, 1)
    with pytest.raises(KeyInUse, match="current"):
        check_retirable(db, rotated, 2)

    # Interrupted after its first batch, then run again: it picks up what is left.
    seen = []

    def stop_after_first(progress):
        seen.append(progress)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        reencrypt(rolled_back.sessionmaker, rotated, batch=2, report=stop_after_first)
    assert seen[0].what == "cases.applicant_name" and seen[0].done >= 1
    done = reencrypt(rolled_back.sessionmaker, rotated, batch=2)
    assert done["cases.phone_enc"] >= len(cases) and done["staff_users.totp_secret_enc"] >= 1
    again = reencrypt(rolled_back.sessionmaker, rotated, batch=2)
    assert set(again.values()) == {0}  # idempotent
    db.expire_all()
    assert plain_names_left(db) == 0 and set(key_usage(db)) == {2}
    check_retirable(db, rotated, 1)  # nothing left under key 1

    retired = FieldCipher({2: new_key}, lookup_key=lookup)
    monkeypatch.setitem(app.extensions, "tongban.cipher", retired)
    with pytest.raises(UnknownKey):
        old_blob = old.encrypt("x", CASE_PHONE, cases[0])
        retired.decrypt(old_blob, CASE_PHONE, cases[0])
    for case_no in [*cases, fresh]:
        case = db.scalar(select(Case).where(Case.case_no == case_no))
        applicant = applicant_of(retired, case)
        assert applicant.phone == "13912345678"
        assert case.applicant_name_hash == name_hash(retired, applicant.name)
        assert read_case(client, window, case_no)["applicant"]["phone"] == "139****5678"
    first = db.scalar(select(Case).where(Case.case_no == cases[0]))
    assert applicant_of(retired, first).name == "李四" and first.applicant_name_masked == "李*"
    shown = client.get(f"/api/v1/cases/{cases[0]}/applicant-name", headers=window)
    assert shown.get_json()["name"] == "李四"
    db.refresh(someone)
    assert totp.secret_of(someone, retired) == secret


def test_the_key_commands_tell_the_operator_what_is_left(client, terminal, app, db):
    window = terminal("FM-01")
    case_no = submit(client, window, application()).get_json()["case_no"]
    _old_style(db, app.extensions["tongban.cipher"], case_no, "李四")
    runner = app.test_cli_runner()
    with app.app_context():
        status = runner.invoke(args=["key-status"])
        assert "current key: 1" in status.output and "names still in clear: 1" in status.output
        refused = runner.invoke(args=["retire-key", "1"])
        assert refused.exit_code == 1 and "current key" in refused.output
        done = runner.invoke(args=["reencrypt", "--batch", "1"])
        assert done.exit_code == 0, done.output
        assert "cases.applicant_name: 1 rows done" in done.output and "李四" not in done.output
        assert "nothing to do" in runner.invoke(args=["reencrypt"]).output
        assert "names still in clear: 0" in runner.invoke(args=["key-status"]).output
