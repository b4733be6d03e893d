"""Operator commands: `python -m service <command>` (see README)."""

import getpass
import json
import secrets
from pathlib import Path

import click
from flask import Flask, current_app
from sqlalchemy import select

from catalog.loaders import STARTER_CATALOG, load_catalog, load_districts
from service import migrate as migrations
from service.accounts.credentials import create_staff, create_terminal
from service.accounts.models import CENTER_LEVELS, ROLES, ServiceCenter
from service.db import get_db
from service.demo import seed_demo


def _settings():
    return current_app.extensions["tongban.settings"]


@click.command("migrate")
def migrate_command() -> None:
    """Apply every pending Alembic migration."""
    migrations.upgrade(_settings().sqlalchemy_url)
    click.echo("database is at the latest schema")


@click.command("load-catalog")
@click.option("--file", "path", type=click.Path(exists=True, dir_okay=False), default=None)
def load_catalog_command(path: str | None) -> None:
    """Load districts and a catalog file (default: the starter catalog)."""
    with get_db().sessionmaker() as session:
        load_districts(session)
        counts = load_catalog(session, Path(path) if path else STARTER_CATALOG)
        session.commit()
    click.echo(f"loaded {counts['items']} items and {counts['agreements']} agreements")


@click.command("seed-demo")
def seed_demo_command() -> None:
    """Load the demo districts, catalog, centers, terminals and staff; write credentials."""
    path = _settings().var_dir / "demo-credentials.json"
    with get_db().sessionmaker() as session:
        counts = seed_demo(session, path)
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
        terminal, key = create_terminal(session, center, name)
        session.commit()
        click.echo(json.dumps({"terminal_id": terminal.id, "api_key": key}, ensure_ascii=False))
    click.echo("store the key now: only its hash is kept", err=True)


@click.command("create-user")
@click.option("--username", required=True)
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--district", default=None, help="GB/T 2260 code; omit for city-wide auditor/admin")
@click.option("--name", "display_name", default=None)
@click.option("--generate-password", is_flag=True, help="print a random password")
def create_user_command(username, role, district, display_name, generate_password) -> None:
    """Create a staff user; asks for the password unless --generate-password."""
    if district is None and role not in ("auditor", "admin"):
        raise click.ClickException("clerks and supervisors belong to a district: give --district")
    if generate_password:
        password = secrets.token_urlsafe(12)
    else:
        password = getpass.getpass("password: ")
        if len(password) < 10:
            raise click.ClickException("use at least 10 characters")
    with get_db().sessionmaker() as session:
        user = create_staff(session, username, password, role, district, display_name)
        session.commit()
        click.echo(f"user {username} created (id {user.id})")
    if generate_password:
        click.echo(f"password: {password}")


COMMANDS = (
    migrate_command,
    load_catalog_command,
    seed_demo_command,
    create_center_command,
    create_terminal_command,
    create_user_command,
)


def init_app(app: Flask) -> None:
    for command in COMMANDS:
        app.cli.add_command(command)
