"""Checkpoint files: the canonical form, Ed25519 signing, the chain between checkpoints, the
security-log digest and the atomic, never-overwriting write (service/audit/checkpoint.py)."""

import json
from datetime import UTC, datetime

import pytest

from service.audit import checkpoint as ck

pytestmark = pytest.mark.unit

SEED = bytes(range(32))


def body(previous=None, at=datetime(2025, 3, 1, 0, 0, 0, 123456, tzinfo=UTC)):
    return {
        "format": ck.FORMAT,
        "taken_at": ck.taken_at_text(at),
        "previous": previous,
        "timeline": {"cases": 1, "events": 3, "heads": [[7, "FM2025", 3, "ab" * 32]]},
        "security_log": {"after_id": 0, "last_id": 2, "rows": 2, "digest": "cd" * 32},
    }


def test_the_canonical_form_is_sorted_compact_utf8_and_leaves_out_the_signature():
    doc = {"b": 1, "a": "昆明", "signature": "x"}
    assert ck.canonical(doc) == '{"a":"昆明","b":1}'.encode()
    assert ck.canonical({"a": "昆明", "b": 1}) == ck.canonical(doc)
    assert ck.digest(doc) == ck.digest({"b": 1, "a": "昆明"})


def test_a_signed_body_checks_with_its_public_key_and_fails_when_changed():
    key = ck.private_key(SEED)
    doc = ck.sign(body(), key)
    public = ck.public_key_from_text(ck.public_key_text(key.public_key()))
    assert ck.signature_holds(doc, public)
    # Re-serialised another way (as an auditor's tool might), it still checks.
    assert ck.signature_holds(json.loads(json.dumps(doc, indent=4)), public)
    edited = json.loads(json.dumps(doc))
    edited["timeline"]["heads"][0][3] = "ef" * 32
    assert not ck.signature_holds(edited, public)
    other = ck.private_key(bytes(32)).public_key()
    assert not ck.signature_holds(doc, other)
    assert not ck.signature_holds({**doc, "signature": "not base64!"}, public)


def test_the_chain_names_the_first_checkpoint_that_does_not_hold():
    key = ck.private_key(SEED)
    first = ck.sign(body(), key)
    second = ck.sign(body(ck.digest(first), datetime(2025, 3, 2, tzinfo=UTC)), key)
    third = ck.sign(body(ck.digest(second), datetime(2025, 3, 3, tzinfo=UTC)), key)
    docs = [
        (ck.file_name(datetime.fromisoformat(d["taken_at"])), d) for d in (first, second, third)
    ]
    public = key.public_key()
    assert ck.chain_break(docs, public) is None
    name, why = ck.chain_break([docs[0], docs[2]], public)
    assert name == docs[2][0] and "missing" in why
    name, why = ck.chain_break(docs[1:], public)  # the first one gone
    assert name == docs[1][0] and "names one before it" in why
    renamed = [docs[0], ("2025-03-09T000000.000000Z.json", second), docs[2]]
    name, why = ck.chain_break(renamed, public)
    assert name == renamed[1][0] and "renamed" in why


def test_the_security_digest_covers_every_column_in_order():
    row = {c: None for c in ck.SECURITY_COLUMNS}
    row |= {"id": 1, "action": "login", "occurred_at": datetime(2025, 3, 1, tzinfo=UTC)}
    other = {**row, "id": 2, "details": {"n": 1}}
    count, digest = ck.security_digest([row, other])
    assert count == 2
    assert ck.security_digest([other, row])[1] != digest
    assert ck.security_digest([row, {**other, "address": "10.0.0.1"}])[1] != digest
    assert ck.security_digest([]) == (0, ck.security_digest(iter(()))[1])
    assert b'"occurred_at":"2025-03-01T00:00:00.000000+00:00"' in ck.security_row(row)


def test_a_checkpoint_is_written_whole_and_never_over_another(tmp_path):
    book = ck.Book(tmp_path / "checkpoints", SEED)
    doc = ck.sign(body(), book.signer)
    path = book.write(doc)
    assert path.name == "2025-03-01T000000.123456Z.json"
    assert book.names() == [path.name] and book.read(path.name) == doc
    with pytest.raises(FileExistsError):
        book.write(
            ck.sign({**body(), "timeline": {"cases": 0, "events": 0, "heads": []}}, book.signer)
        )
    assert book.read(path.name) == doc
    assert sorted(p.name for p in book.directory.iterdir()) == [path.name]  # no temp file left
    book.write_aside("heads-cache.json", b"{}")
    assert book.names() == [path.name]  # other files are not checkpoints
