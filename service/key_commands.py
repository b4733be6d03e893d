"""Operator commands for the data keys (README, "Keys"): re-encrypt to the current key, see
which keys still seal data, check that one may be retired, print the lookup key to pin it."""

import base64

import click
from flask import current_app

from service.db import get_db
from service.rekey import KeyInUse, Progress, check_retirable, key_usage, plain_names_left
from service.rekey import reencrypt as reencrypt_all


def _cipher():
    return current_app.extensions["tongban.cipher"]


def _report(progress: Progress) -> None:
    click.echo(f"{progress.what}: {progress.done} rows done")


@click.command("reencrypt")
@click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 10_000))
def reencrypt_command(batch: int) -> None:
    """Seal applicants' names still in clear and re-encrypt everything not under the current
    key, committing each batch; safe to stop and run again."""
    cipher = _cipher()
    done = reencrypt_all(get_db().sessionmaker, cipher, batch, _report)
    changed = ", ".join(f"{what} {n}" for what, n in done.items() if n) or "nothing to do"
    click.echo(f"done under key {cipher.current}: {changed}")


@click.command("key-status")
def key_status_command() -> None:
    """How many stored values each key seals, and how many names are still in clear."""
    cipher = _cipher()
    with get_db().sessionmaker() as session:
        usage, plain = key_usage(session), plain_names_left(session)
    click.echo(f"current key: {cipher.current}; configured keys: {list(cipher.key_ids)}")
    for key_id in sorted(usage):
        click.echo(f"key {key_id}: {usage[key_id]} values")
    click.echo(f"applicant names still in clear: {plain}")


@click.command("retire-key")
@click.argument("key_id", type=click.IntRange(1, 255))
def retire_key_command(key_id: int) -> None:
    """Check that KEY_ID seals nothing any more, so it may be removed from the key ring."""
    with get_db().sessionmaker() as session:
        try:
            check_retirable(session, _cipher(), key_id)
        except KeyInUse as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"key {key_id} seals nothing: remove it from TONGBAN_DATA_KEYS")
    settings = current_app.extensions["tongban.settings"]
    if key_id == 1 and settings.lookup_key is None:
        click.echo(
            "the lookup key is still derived from TONGBAN_DATA_KEY: set TONGBAN_LOOKUP_KEY "
            "(`python -m service lookup-key`) before removing TONGBAN_DATA_KEY"
        )


@click.command("lookup-key")
def lookup_key_command() -> None:
    """Print the lookup key in use (base64), to pin it as TONGBAN_LOOKUP_KEY."""
    click.echo(base64.urlsafe_b64encode(_cipher().lookup_key).decode())


COMMANDS = (reencrypt_command, key_status_command, retire_key_command, lookup_key_command)
