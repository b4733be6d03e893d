"""Alembic environment: the metadata of every model, the URL from the environment."""

from alembic import context
from sqlalchemy import create_engine

from service.config import load_settings
from service.models import metadata

config = context.config


def run_migrations() -> None:
    url = config.attributes.get("sqlalchemy_url")
    if url is None:
        url = load_settings().sqlalchemy_url
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    # A data migration's failing statement must not quote the personal data bound to it.
    engine = create_engine(url, hide_parameters=True)
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:
    context.configure(connection=connection, target_metadata=metadata, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


run_migrations()
