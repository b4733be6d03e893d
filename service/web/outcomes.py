"""What a step's refusal means on a page: the domain's Chinese reason, or a 404 page.

The same exceptions the API turns into problems (service.cases.api.run_step) become messages here.
"""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import abort

from catalog.routing import RoutingError
from service.cases.actions import ActionInvalid, CaseNotFound, VersionConflict
from service.cases.intake import IdempotencyConflict, MaterialsRefused
from service.cases.lifecycle import TransitionRefused
from service.db import db_session
from service.errors import Problem
from service.materials.store import Refused


@dataclass(frozen=True)
class Refusal:
    """Why a step was not taken: a Chinese message, and the field at fault if there is one."""

    message_zh: str
    field: str | None = None
    problems: list[dict] | None = None  # every materials problem of a refused intake


_REFUSALS = (
    CaseNotFound,
    VersionConflict,
    TransitionRefused,
    ActionInvalid,
    RoutingError,
    Refused,
    IdempotencyConflict,
    Problem,
)


def attempt(run: Callable[[], Any]) -> tuple[Any, Refusal | None]:
    """Run a step: (result, None), or (None, Refusal); a case not visible is a 404 page.

    A refused step is rolled back at once, so its row locks do not last while the page renders."""
    try:
        return run(), None
    except _REFUSALS as err:
        db_session().rollback()
        return None, refusal_of(err)


def refusal_of(err: Exception) -> Refusal:
    """The page's message for one of the domain's refusals."""
    if isinstance(err, CaseNotFound) or (isinstance(err, Problem) and err.status == 404):
        abort(404)
    if isinstance(err, VersionConflict):
        return Refusal("办件已被他人更新，页面已刷新为最新状态，请核对后重新提交。")
    if isinstance(err, TransitionRefused):
        return Refusal(err.reason_zh)
    if isinstance(err, ActionInvalid):
        return Refusal(err.message_zh, err.field)
    if isinstance(err, RoutingError):
        problems = err.problems if isinstance(err, MaterialsRefused) else None
        return Refusal(err.detail_zh, err.field, problems)
    if isinstance(err, Refused):
        return Refusal(err.message_zh, "file")
    if isinstance(err, IdempotencyConflict):
        return Refusal("该申请已提交过，请刷新页面后重新填写。")
    return Refusal(getattr(err, "detail_zh", None) or "提交的信息有误，请检查。")
