"""Operator commands: `python -m service <command>` (see README)."""

import getpass
import hashlib
import json
import re
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from catalog.exporter import FORMATS, export_catalog, template
from catalog.importer import CatalogImportError, import_catalog
from catalog.loaders import load_districts
from catalog.rows import RowError
from catalog.tabular import FileFormatError, read_catalog, read_csv
from service import migrate as migrations
from service.accounts import manage, totp
from service.accounts.models import CENTER_LEVELS, ROLES, ServiceCenter, StaffUser, Terminal
from service.accounts.passwords import MESSAGES_ZH, password_problems
from service.audit.checkpoint import public_key_text
from service.cases.checkpoints import take_checkpoint
from service.cases.verify import verify_timelines
from service.clock import local_today
from service.clocks.store import CalendarImportError, import_year
from service.clocks.supervision import supervise
from service.db import get_db
from service.demo import seed_demo
from service.key_commands import COMMANDS as KEY_COMMANDS
from service.stats.closing import (
    CITY,
    SCOPES,
    MonthNotOver,
    MonthsOutOfOrder,
    close_due_months,
    close_month,
    month_file,
)
from service.stats.export import FORMATS as STAT_FORMATS


def _settings():
    return current_app.extensions["tongban.settings"]


def _book():
    return current_app.extensions["tongban.checkpoints"]


@click.command("migrate")
def migrate_command() -> None:
    """Apply every pending Alembic migration."""
    settings = _settings()
    migrations.upgrade(settings.migration_sqlalchemy_url, app_role=settings.app_role)
    click.echo("database is at the latest schema")


def _echo_errors(errors: list[RowError]) -> None:
    for e in errors:
        place = f"{e.sheet} 第{e.row}行" + (f" {e.column}" if e.column else "")
        click.echo(f"{place}: {e.message}", err=True)


@click.command("import-catalog")
@click.argument("path", type=click.Path(exists=True, path_type=Path))
@click.option("--dry-run", is_flag=True, help="check and report what would change; change nothing")
@click.option(
    "--effective-from",
    type=click.DateTime(["%Y-%m-%d"]),
    default=None,
    help="the day new item versions take effect (default: today)",
)
def import_catalog_command(path: Path, dry_run: bool, effective_from) -> None:
    """Import an XLSX workbook, a zip of CSV files, or a folder of CSV files."""
    today = local_today()
    starts = effective_from.date() if effective_from else today
    if starts < today:
        raise click.BadParameter("must be today or later", param_hint="--effective-from")
    with get_db().sessionmaker() as session:
        load_districts(session)
        try:
            report = import_catalog(
                session,
                read_catalog(path),
                effective_from=starts,
                dry_run=dry_run,
                source=f"{path.name} by cli",
            )
        except FileFormatError as err:
            raise click.ClickException(err.message_zh) from err
        except CatalogImportError as err:
            _echo_errors(err.errors)
            raise click.ClickException(f"{len(err.errors)} errors; nothing was changed") from err
        if dry_run:
            session.rollback()
        else:
            session.commit()
    click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=1, default=str))


@click.command("export-catalog")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="xlsx")
@click.option("--template", "empty", is_flag=True, help="the empty template instead")
@click.option("--on", type=click.DateTime(["%Y-%m-%d"]), default=None, help="default: today")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def export_catalog_command(fmt: str, empty: bool, on, out: Path) -> None:
    """Write the catalog in force on a day (or the empty template) to OUT."""
    if empty:
        data = template(fmt)
    else:
        with get_db().sessionmaker() as session:
            data = export_catalog(session, on.date() if on else local_today(), fmt)
    out.write_bytes(data)
    click.echo(f"wrote {out} ({len(data)} bytes)")


@click.command("import-calendar")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--year", type=int, required=True)
def import_calendar_command(path: Path, year: int) -> None:
    """Import a year's official holidays and 调休 workdays (CSV: 日期, 类型, 名称)."""
    with get_db().sessionmaker() as session:
        try:
            result = import_year(
                session, year, read_csv(path.read_bytes(), path.name), by="cli", source=path.name
            )
        except FileFormatError as err:
            raise click.ClickException(err.message_zh) from err
        except CalendarImportError as err:
            _echo_errors(err.errors)
            raise click.ClickException(f"{len(err.errors)} errors; nothing was changed") from err
        session.commit()
    click.echo(
        f"{year}: {result.holidays} holidays, {result.workdays} make-up workdays; "
        f"{result.recomputed} provisional deadlines recomputed"
    )


@click.command("supervise")
def supervise_command() -> None:
    """Mark deadlines due soon or overdue now and notify (beat does this every few minutes)."""
    rules = current_app.extensions["tongban.policy"].clocks
    with get_db().sessionmaker() as session:
        changed = supervise(session, rules)
    click.echo(json.dumps(changed))


@click.command("stats-monthly")
@click.option("--month", required=True, help="YYYY-MM")
@click.option("--format", "fmt", type=click.Choice(STAT_FORMATS), default="xlsx")
@click.option("--district", default=CITY, help="a district code, or city (default)")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
def stats_monthly_command(month: str, fmt: str, district: str, out: Path) -> None:
    """Write a month's report; a closed month gives its frozen file."""
    if not re.fullmatch(r"20\d\d-(0[1-9]|1[0-2])", month):
        raise click.BadParameter("use YYYY-MM", param_hint="--month")
    if district not in SCOPES:
        raise click.BadParameter("a district code, or city", param_hint="--district")
    with get_db().sessionmaker() as session:
        content, closed = month_file(session, month, district, fmt)
    out.write_bytes(content)
    state = "closed, frozen" if closed else "open, computed now"
    click.echo(f"wrote {out} ({state}; sha256 {hashlib.sha256(content).hexdigest()})")


@click.command("close-month")
@click.option("--month", default=None, help="YYYY-MM; default: every finished month not closed")
def close_month_command(month: str | None) -> None:
    """Close finished months: freeze their reports and files, with a SHA-256 manifest."""
    with get_db().sessionmaker() as session:
        try:
            months = (
                [close_month(session, month, "cli", _book()).month]
                if month
                else close_due_months(session, "cli", _book())
            )
        except MonthNotOver as err:
            raise click.ClickException(f"{month} is not over yet") from err
        except MonthsOutOfOrder as err:
            raise click.ClickException(f"close {err} first: months close in order") from err
    click.echo("closed: " + (", ".join(months) or "nothing to close"))


@click.command("verify-timeline")
def verify_timeline_command() -> None:
    """Check every case's timeline hash chain and every signed checkpoint; exits 1 and names
    the first broken link."""
    with get_db().sessionmaker() as session:
        result = verify_timelines(session, _book())
    click.echo(json.dumps(result, ensure_ascii=False, default=str))
    if not result["ok"]:
        raise SystemExit(1)


@click.command("checkpoint")
def checkpoint_command() -> None:
    """Take a signed checkpoint of the timelines and the security log now (beat does daily)."""
    name = take_checkpoint(get_db().engine, _book())
    click.echo(f"checkpoint written: {_book().directory / name}")


@click.command("checkpoint-public-key")
def checkpoint_public_key_command() -> None:
    """Print the public key that checks the checkpoints' signatures, for auditors."""
    click.echo(public_key_text(_book().public_key))


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo districts, catalog, centers, terminals and staff; write credentials."""
    path = _settings().var_dir / "demo-credentials.json"
    with get_db().sessionmaker() as session:
        counts = seed_demo(session, path, current_app.extensions["tongban.cipher"])
    click.echo("demo data: " + ", ".join(f"{v} {k}" for k, v in counts.items()))
    click.echo(f"demo credentials written to {path}")


@click.command("create-center")
@click.option("--code", required=True)
@click.option("--name", required=True)
@click.option("--district", required=True, help="GB/T 2260 code, e.g. 530102")
@click.option("--level", type=click.Choice(CENTER_LEVELS), required=True)
@click.option("--parent", help="code of the parent center")
def create_center_command(code, name, district, level, parent) -> None:
    """Add a service center."""
    with get_db().sessionmaker() as session:
        parent_id = None
        if parent:
            parent_id = session.scalar(select(ServiceCenter.id).where(ServiceCenter.code == parent))
            if parent_id is None:
                raise click.ClickException(f"no center {parent}")
        session.add(
            ServiceCenter(
                code=code, name=name, district_code=district, level=level, parent_id=parent_id
            )
        )
        session.commit()
    click.echo(f"center {code} created")


@click.command("create-terminal")
@click.option("--center", "center_code", required=True, help="service center code")
@click.option("--name", required=True)
def create_terminal_command(center_code: str, name: str) -> None:
    """Create a terminal and print its API key (shown this once only)."""
    with get_db().sessionmaker() as session:
        center = session.scalar(select(ServiceCenter).where(ServiceCenter.code == center_code))
        if center is None:
            raise click.ClickException(f"no center {center_code}")
        terminal, key = manage.add_terminal(session, center, name)
        session.commit()
        click.echo(json.dumps({"terminal_id": terminal.id, "api_key": key}, ensure_ascii=False))
    click.echo("store the key now: only its hash is kept", err=True)


def _terminal(session, terminal_id: int) -> Terminal:
    terminal = session.get(Terminal, terminal_id)
    if terminal is None:
        raise click.ClickException(f"no terminal {terminal_id}")
    return terminal


@click.command("rotate-terminal-key")
@click.argument("terminal_id", type=int)
def rotate_terminal_key_command(terminal_id: int) -> None:
    """Give a terminal a new API key (printed once); the old key stops working at once."""
    with get_db().sessionmaker() as session:
        try:
            key = manage.rotate_key(session, _terminal(session, terminal_id))
        except manage.AccountError as err:
            raise click.ClickException(err.message) from err
        session.commit()
    click.echo(json.dumps({"terminal_id": terminal_id, "api_key": key}))
    click.echo("store the key now: only its hash is kept", err=True)


@click.command("revoke-terminal")
@click.argument("terminal_id", type=int)
def revoke_terminal_command(terminal_id: int) -> None:
    """Stop a terminal for good: its key and window logins stop working at once."""
    with get_db().sessionmaker() as session:
        manage.revoke_terminal(session, _terminal(session, terminal_id))
        session.commit()
    click.echo(f"terminal {terminal_id} revoked")


def _user(session, username: str) -> StaffUser:
    user = session.scalar(select(StaffUser).where(StaffUser.username == username))
    if user is None:
        raise click.ClickException(f"no user {username}")
    return user


@click.command("create-user")
@click.option("--username", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option(
    "--district",
    default=None,
    help="GB/T 2260 code; omit for a city-wide account (not for clerks and supervisors)",
)
@click.option("--name", "display_name", default=None)
@click.option(
    "--generate-password",
    is_flag=True,
    help="print a temporary password, to be changed at the first login",
)
def create_user_command(username, role, district, display_name, generate_password) -> None:
    """Create a staff user; asks for the password unless --generate-password.

    Roles other than clerk enrol an authenticator app at their first login."""
    password = None
    if not generate_password:
        password = getpass.getpass("password: ")
        problems = password_problems(password, username)
        if problems:
            raise click.ClickException(" ".join(MESSAGES_ZH[p] for p in problems))
    with get_db().sessionmaker() as session:
        try:
            user, temporary = manage.create_account(
                session,
                username=username,
                role=role,
                district_code=district,
                display_name=display_name,
                password=password,
            )
        except manage.AccountError as err:
            raise click.ClickException(err.message) from err
        session.commit()
        click.echo(f"user {username} created (id {user.id})")
    if temporary:
        click.echo(f"temporary password: {temporary}")


@click.command("deactivate-user")
@click.argument("username")
def deactivate_user_command(username: str) -> None:
    """Deactivate a staff account: its tokens and page sessions stop working at once."""
    with get_db().sessionmaker() as session:
        manage.set_active(session, _user(session, username), False, None)
        session.commit()
    click.echo(f"user {username} deactivated")


@click.command("reactivate-user")
@click.argument("username")
def reactivate_user_command(username: str) -> None:
    """Let a deactivated staff account log in again."""
    with get_db().sessionmaker() as session:
        manage.set_active(session, _user(session, username), True, None)
        session.commit()
    click.echo(f"user {username} reactivated")


@click.command("reset-password")
@click.argument("username")
@click.option("--reset-totp", is_flag=True, help="also drop the authenticator (a lost phone)")
def reset_password_command(username: str, reset_totp: bool) -> None:
    """Print a temporary password for a staff account, to be changed at the next login; its
    sessions end."""
    with get_db().sessionmaker() as session:
        password = manage.reset_password(session, _user(session, username), reset_totp)
        session.commit()
    click.echo(f"temporary password: {password}")


@click.command("set-role")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--district", default=None, help="GB/T 2260 code; omit for city-wide")
def set_role_command(username: str, role: str, district: str | None) -> None:
    """Give a staff account another role or district; its sessions end."""
    with get_db().sessionmaker() as session:
        try:
            manage.change_role(session, _user(session, username), role, district, None)
        except manage.AccountError as err:
            raise click.ClickException(err.message) from err
        session.commit()
    click.echo(f"user {username} is now {role} of {district or 'the city'}")


@click.command("list-users")
@click.option("--district", default=None, help="only this district's accounts")
def list_users_command(district: str | None) -> None:
    """List staff accounts, one JSON object a line."""
    with get_db().sessionmaker() as session:
        stmt = select(StaffUser).order_by(StaffUser.id)
        if district:
            stmt = stmt.where(StaffUser.district_code == district)
        for u in session.scalars(stmt):
            row = {
                "id": u.id,
                "username": u.username,
                "role": u.role,
                "district": u.district_code,
                "active": u.active,
                "totp": u.totp_enabled,
                "must_change_password": u.must_change_password,
            }
            click.echo(json.dumps(row, ensure_ascii=False))


@click.command("list-sessions")
@click.option("--district", default=None, help="only this district's sessions")
def list_sessions_command(district: str | None) -> None:
    """List open staff tokens and window logins, one JSON object a line."""
    with get_db().sessionmaker() as session:
        for s in manage.open_sessions(session, district):
            click.echo(json.dumps(s.__dict__, ensure_ascii=False, default=str))


@click.command("revoke-session")
@click.argument("kind", type=click.Choice(("staff", "window")))
@click.argument("session_id", type=int)
def revoke_session_command(kind: str, session_id: int) -> None:
    """End one staff token or window login (ids from list-sessions) at once."""
    with get_db().sessionmaker() as session:
        found = manage.find_session(session, kind, session_id)
        if found is None:
            raise click.ClickException(f"no open {kind} session {session_id}")
        manage.revoke_session(session, found)
        session.commit()
    click.echo(f"{kind} session {session_id} revoked")


@click.command("totp-code")
@click.argument("username")
def totp_code_command(username: str) -> None:
    """Print the current authenticator code of a demo account (from var/demo-credentials.json,
    never from the database: real accounts' codes come from their owners' phones)."""
    path = _settings().var_dir / "demo-credentials.json"
    if not path.exists():
        raise click.ClickException(f"{path} not found: only demo accounts have codes here")
    staff = json.loads(path.read_text(encoding="utf-8")).get("staff", [])
    secret = next((s.get("totp_secret") for s in staff if s["username"] == username), None)
    if not secret:
        raise click.ClickException(f"{username} has no authenticator in the demo credentials")
    click.echo(totp.current_code(secret))


COMMANDS = (
    migrate_command,
    import_catalog_command,
    export_catalog_command,
    import_calendar_command,
    supervise_command,
    stats_monthly_command,
    close_month_command,
    verify_timeline_command,
    checkpoint_command,
    checkpoint_public_key_command,
    seed_demo_command,
    create_center_command,
    create_terminal_command,
    rotate_terminal_key_command,
    revoke_terminal_command,
    create_user_command,
    deactivate_user_command,
    reactivate_user_command,
    reset_password_command,
    set_role_command,
    list_users_command,
    list_sessions_command,
    revoke_session_command,
    totp_code_command,
    *KEY_COMMANDS,
)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
