"""Rule tests: each runs in its own transaction, rolled back at the end, with no worker.

The app, `terminal`, `staff`, `db` and `engine` all use the test's one connection
(tests/isolation.py); a delivery a worker would make is applied in this process by `deliver`.
"""

import pytest

from tests.helpers import deliver_inline, status_of


@pytest.fixture(autouse=True)
def _isolated(rolled_back):
    """Every test here runs in the rolled-back transaction, whatever fixtures it names."""


@pytest.fixture
def arrange(rolled_back):
    return rolled_back.sessionmaker


@pytest.fixture
def engine(rolled_back):
    return rolled_back


@pytest.fixture
def db(db_session):
    return db_session


@pytest.fixture
def deliver(rolled_back, settings, app):
    """deliver(case_no): apply its pending deliveries as the worker would, and check it is
    now received by the responsible district."""

    def run(case_no: str) -> None:
        publisher = app.extensions["tongban.publisher"]
        deliver_inline(rolled_back, settings, case_no, publisher)
        assert status_of(rolled_back, case_no) == "received"

    return run
