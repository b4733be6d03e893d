"""Page blueprints: each checks CSRF on every POST and answers errors as Chinese pages."""

import logging

from flask import Blueprint, render_template
from werkzeug.exceptions import HTTPException

from service import logs
from service.errors import Problem
from service.web.auth import PageForbidden
from service.web.csrf import CsrfRefused, check_csrf

log = logging.getLogger("tongban.web")


def page_blueprint(name: str, import_name: str, url_prefix: str | None = None) -> Blueprint:
    """A blueprint of pages with its own templates folder, CSRF checks and error pages."""
    blueprint = Blueprint(name, import_name, url_prefix=url_prefix, template_folder="templates")
    blueprint.before_request(check_csrf)
    _register_errors(blueprint)
    return blueprint


def page_error(status: int, title: str, message: str):
    """An error as a page in Chinese."""
    return render_template("error.html", title=title, message=message), status


HTTP_PAGES = {
    400: ("请求有误", "提交的内容无法识别，请返回后重新填写。"),
    404: ("未找到", "未找到该页面或办件，或者它不属于本辖区。"),
    405: ("操作无效", "请从页面上的按钮进行操作。"),
    413: ("文件过大", "上传的文件过大，请压缩或分开上传。"),
}


def _register_errors(blueprint: Blueprint) -> None:
    """HTML error pages in Chinese for a page blueprint; the API keeps its problem+json."""

    @blueprint.errorhandler(CsrfRefused)
    def _csrf(_err):
        return page_error(400, "页面已过期", "页面已过期或来源不明，请返回刷新页面后重新提交。")

    @blueprint.errorhandler(PageForbidden)
    def _forbidden(_err):
        return page_error(403, "无权访问", "当前账号无权访问此页面。")

    for code, (title, message) in HTTP_PAGES.items():
        blueprint.register_error_handler(
            code,
            lambda _err, code=code, title=title, message=message: page_error(code, title, message),
        )

    @blueprint.errorhandler(Exception)
    def _unexpected(err):
        if isinstance(err, HTTPException):
            return page_error(err.code or 400, "无法完成", "请求无法完成，请返回后重试。")
        if isinstance(err, Problem):
            return page_error(err.status, "无法完成", err.detail_zh or "提交的信息有误，请检查。")
        # Without the exception's message, which may quote personal data (service/logs.py).
        log.error("page error", extra=logs.exception_fields(err))
        return page_error(500, "系统繁忙", "系统内部错误，本次提交未保存，请稍后重试。")
