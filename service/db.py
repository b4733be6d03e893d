"""Database engine and the request-scoped session.

A request gets one session; it is rolled back at teardown unless the view committed it, so a
failure halfway through never leaves half a case behind.
"""

from flask import Flask, current_app, g
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from service.config import Settings


class Database:
    def __init__(self, settings: Settings):
        # hide_parameters: a failed statement's error (and so its traceback) would otherwise
        # quote the values bound to it, which are applicants' names, numbers and addresses.
        self.engine: Engine = create_engine(
            settings.sqlalchemy_url,
            pool_pre_ping=True,
            pool_size=5,
            max_overflow=10,
            hide_parameters=True,
        )
        self.sessionmaker = sessionmaker(self.engine, expire_on_commit=False)


def init_app(app: Flask, settings: Settings) -> Database:
    database = Database(settings)
    app.extensions["tongban.db"] = database

    @app.teardown_appcontext
    def _close_session(_exc: BaseException | None) -> None:
        session = g.pop("db_session", None)
        if session is not None:
            session.rollback()
            session.close()

    return database


def get_db() -> Database:
    return current_app.extensions["tongban.db"]


def db_session() -> Session:
    """The session of the current request or app context."""
    if "db_session" not in g:
        g.db_session = get_db().sessionmaker()
    return g.db_session


def transaction_cache(session: Session, key: str) -> dict:
    """A dict kept in the session for its current transaction only: a later transaction (which
    may see other commits) starts with an empty one."""
    transaction = session.get_transaction()
    if transaction is None:
        session.connection()  # begin it now, so the dict is tied to the transaction it serves
        transaction = session.get_transaction()
    cached = session.info.get(key)
    if cached is None or cached[0] is not transaction:
        cached = (transaction, {})
        session.info[key] = cached
    return cached[1]
