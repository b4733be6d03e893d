"""Running Alembic migrations from code (CLI, embedded run, tests)."""

from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(sqlalchemy_url: str) -> Config:
    config = Config(str(MIGRATIONS / "alembic.ini"))
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["sqlalchemy_url"] = sqlalchemy_url
    return config


def upgrade(sqlalchemy_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(sqlalchemy_url), revision)
