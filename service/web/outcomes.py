"""What a step's refusal means on a page: the domain's Chinese reason, or a 404 page.

The same DomainError the API answers as a problem (service/errors.py) becomes a message here.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort

from catalog.refusals import DomainError
from service.db import db_session
from service.errors import Problem


@dataclass(frozen=True)
class Refusal:
    """Why a step was not taken: a Chinese message, and the field at fault if there is one."""

    message_zh: str
    field: str | None = None
    problems: list[dict] | None = None  # every materials problem of a refused intake
    status: int = 422  # as the API answers it: 409 a step not allowed now, 422 details to fix


def attempt(run: Callable[[], Any]) -> tuple[Any, Refusal | None]:
    """Run a step: (result, None), or (None, Refusal); a case not visible is a 404 page.

    A refused step is rolled back at once, so its row locks do not last while the page renders."""
    try:
        return run(), None
    except (DomainError, Problem) as err:
        db_session().rollback()
        return None, refusal_of(err)


def refusal_of(err: DomainError | Problem) -> Refusal:
    """The page's message for a refusal: the domain's own Chinese words and field."""
    if err.status == 404:
        abort(404)
    if isinstance(err, Problem):  # an API-level check shared with the pages (file size)
        return Refusal(err.detail_zh or "提交的信息有误，请检查。", status=err.status)
    return Refusal(err.message_zh, err.field, err.extensions.get("materials"), err.status)
