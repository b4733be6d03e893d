"""The unit of work of a request: the API's and the pages' way into the step runner."""

from flask import current_app

from service.cases.steps import UnitOfWork
from service.db import db_session
from service.logs import case_no_var


def unit_of_work() -> UnitOfWork:
    """A unit of work on the request's session: commits when its block ends, then publishes
    what the steps queued (service/cases/steps.py)."""
    extensions = current_app.extensions
    return UnitOfWork(db_session(), extensions["tongban.policy"], extensions["tongban.publisher"])


def take(case_no: str | None, step, *args):
    """Run `step(uow, *args)` in the request's unit of work, with the case number in the log
    context; returns what the step returned, once committed. Its refusals (DomainError) roll
    the unit back and reach the app's one handler (service/errors.py)."""
    case_no_var.set(case_no)
    with unit_of_work() as uow:
        return step(uow, *args)
