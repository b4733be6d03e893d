"""Moving encrypted data to the current key, and checking that an old key is no longer used.

`reencrypt` walks every encrypted column (service/sealed.py) in batches, one transaction per
batch: it seals applicants' names still kept in clear (emptying the plain column), then
re-encrypts every ciphertext that is not v2 under the current key. Each batch picks what is
still left to do, so the command can be stopped and run again at any time and does nothing
the second time. `key_usage` counts ciphertexts by key, which `retire-key` asks before saying a
key may be removed from the ring.

Rows are updated with plain SQL, not through the ORM: the case's version counter is for the
steps people take, and re-encrypting changes nothing a client has read.
"""

from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from service.cases.applicant import sealed_name
from service.crypto import V2, Field, FieldCipher
from service.sealed import FIELDS


@dataclass(frozen=True)
class Progress:
    what: str  # "cases.applicant_name" (sealing) or a field's table.column
    done: int  # rows of it done so far in this run


class KeyInUse(Exception):
    """A key still seals data, or is the current one."""


def _stale(field: Field) -> str:
    # Not v2 under the current key: v1 (key 1) or v2 under another key.
    column = field.column
    return (
        f"{column} IS NOT NULL AND NOT (get_byte({column}, 0) = {V2} "
        f"AND get_byte({column}, 1) = :current)"
    )


def _seal_names(sessions: sessionmaker, cipher: FieldCipher, batch: int, report) -> int:
    done = 0
    while True:
        with sessions() as session:
            rows = session.execute(
                text(
                    "SELECT id, case_no, applicant_name FROM cases "
                    "WHERE applicant_name IS NOT NULL ORDER BY id LIMIT :n FOR UPDATE"
                ),
                {"n": batch},
            ).all()
            if not rows:
                return done
            for row in rows:
                values = sealed_name(cipher, row.case_no, row.applicant_name)
                session.execute(
                    text(
                        "UPDATE cases SET applicant_name = NULL, "
                        "applicant_name_enc = :applicant_name_enc, "
                        "applicant_name_hash = :applicant_name_hash, "
                        "applicant_name_masked = :applicant_name_masked WHERE id = :id"
                    ),
                    {**values, "id": row.id},
                )
            session.commit()
        done += len(rows)
        report(Progress("cases.applicant_name", done))


def _reencrypt_field(
    sessions: sessionmaker, cipher: FieldCipher, field: Field, batch: int, report
) -> int:
    done = 0
    key, column, table = field.row_key, field.column, field.table
    while True:
        with sessions() as session:
            rows = session.execute(
                text(
                    f"SELECT {key} AS row_key, {column} AS blob FROM {table} "
                    f"WHERE {_stale(field)} ORDER BY {key} LIMIT :n FOR UPDATE"
                ),
                {"n": batch, "current": cipher.current},
            ).all()
            if not rows:
                return done
            for row in rows:
                row_id = str(row.row_key)
                plain = cipher.decrypt(bytes(row.blob), field, row_id)
                session.execute(
                    text(f"UPDATE {table} SET {column} = :blob WHERE {key} = :row_key"),
                    {"blob": cipher.encrypt(plain, field, row_id), "row_key": row.row_key},
                )
            session.commit()
        done += len(rows)
        report(Progress(f"{table}.{column}", done))


def reencrypt(
    sessions: sessionmaker,
    cipher: FieldCipher,
    batch: int = 500,
    report: Callable[[Progress], None] = lambda p: None,
) -> dict[str, int]:
    """Seal plain names, then bring every ciphertext to v2 under the current key; returns
    how many rows of each were changed. Safe to interrupt and to run again."""
    done = {"cases.applicant_name": _seal_names(sessions, cipher, batch, report)}
    for field in FIELDS:
        done[f"{field.table}.{field.column}"] = _reencrypt_field(
            sessions, cipher, field, batch, report
        )
    return done


def key_usage(session: Session) -> dict[int, int]:
    """How many stored ciphertexts each key seals, over every encrypted column."""
    counts: dict[int, int] = {}
    for field in FIELDS:
        column = field.column
        rows = session.execute(
            text(
                f"SELECT CASE WHEN get_byte({column}, 0) = {V2} THEN get_byte({column}, 1) "
                f"ELSE 1 END AS key_id, count(*) AS n FROM {field.table} "
                f"WHERE {column} IS NOT NULL GROUP BY 1"
            )
        ).all()
        for row in rows:
            counts[row.key_id] = counts.get(row.key_id, 0) + row.n
    return counts


def plain_names_left(session: Session) -> int:
    """Applicants' names still kept in clear (cases `reencrypt` has not sealed yet)."""
    return session.scalar(text("SELECT count(*) FROM cases WHERE applicant_name IS NOT NULL")) or 0


def check_retirable(session: Session, cipher: FieldCipher, key_id: int) -> None:
    """Refuse (KeyInUse) while `key_id` is current or still seals anything."""
    if key_id == cipher.current:
        raise KeyInUse(f"key {key_id} is the current key; make another key current first")
    left = key_usage(session).get(key_id, 0)
    if left:
        raise KeyInUse(
            f"key {key_id} still seals {left} values; run `python -m service reencrypt` first"
        )
