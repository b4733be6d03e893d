"""The whole round in a real browser: a 富民 window takes an application, 五华's clerk accepts and
completes it, the window hands out the result and records a rating, and 五华's supervisor sees
it in the month's figures. Served by a real HTTP server, forwarded by a real Celery worker.

Runs when /usr/bin/chromium is present; skips with the reason otherwise.
`TONGBAN_SCREENSHOTS=1` also writes docs/screenshots/*.png.
"""

import re

import pytest

from tests.helpers import make_id_number, status_of
from tests.processes import wait_for
from tests.web.browser import (
    CHROMIUM,
    CHROMIUM_ARGS,
    SCREENSHOTS,
    VIEWPORT,
    LiveServer,
    missing,
    png,
    screenshots_wanted,
)
from tests.web.pages import PASSWORD, make_staff, make_terminal_key, otp_for

pytestmark = pytest.mark.skipif(missing() is not None, reason=missing() or "")


@pytest.fixture(scope="module")
def live(app):
    server = LiveServer(app)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Shots:
    """Screenshots of the main pages, only when asked for."""

    def __init__(self):
        self.on = screenshots_wanted()
        if self.on:
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)

    def take(self, page, name: str, full_page: bool = False) -> None:
        if self.on:
            page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=full_page)


def _context(browser, live):
    context = browser.new_context(viewport=VIEWPORT, base_url=live.url, locale="zh-CN")
    context.set_default_timeout(10_000)
    return context


def _autofocused(page) -> None:
    """Wait until the field with autofocus has the focus: keys typed before are lost."""
    page.wait_for_function(
        "document.activeElement && document.activeElement.hasAttribute('autofocus')"
    )


def _staff_login(page, username: str) -> None:
    """Log in by keyboard alone: type, Tab, type (Tab, the code), Enter."""
    page.goto("/login")
    _autofocused(page)  # the username field
    page.keyboard.type(username)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    code = otp_for(username)
    if code:
        page.keyboard.press("Tab")
        page.keyboard.type(code)
    with page.expect_navigation():
        page.keyboard.press("Enter")


def _figure(page, name: str) -> int:
    return int(page.locator(f"[data-figure={name}] .value").inner_text())


def test_window_to_back_office_and_back(browser, live, worker, migrated, tmp_path):
    from playwright.sync_api import expect

    shots = Shots()
    key = make_terminal_key(migrated, "FM-01")
    clerk = make_staff(migrated, "clerk", "530102")
    supervisor = make_staff(migrated, "supervisor", "530102")
    scan = tmp_path / "身份证.png"
    scan.write_bytes(png())

    boss = _context(browser, live).new_page()
    _staff_login(boss, supervisor)
    assert boss.url.endswith("/supervisor/"), boss.content()[-3000:]
    completed_before = _figure(boss, "completed")

    # 富民's window: log in with the terminal key, find the item by pinyin initials.
    window = _context(browser, live).new_page()
    window.goto("/login/window")
    shots.take(window, "login-window")
    _autofocused(window)
    window.keyboard.type(key)
    window.keyboard.press("Enter")
    window.wait_for_url("**/window/")
    _autofocused(window)
    window.keyboard.type("sbk")
    with window.expect_navigation():
        window.keyboard.press("Enter")
    shots.take(window, "window-search")
    window.get_by_role("link", name="社会保障卡申领").first.click()
    window.fill("#name", "王芳")
    window.fill("#id_number", make_id_number())
    window.fill("#phone", "13912345678")
    window.select_option("#insured_district", "530102")
    for code in ("M01", "M03", "M04"):
        window.check(f"#got_{code}")
    window.set_input_files("input[name=scan_M01]", str(scan))
    shots.take(window, "window-intake", full_page=True)
    window.get_by_role("button", name="提交收件并打印回执").click()
    window.wait_for_url("**/receipt")
    case_no = window.locator(".case-no strong").first.inner_text()
    assert re.fullmatch(r"530124-\d{8}-\d{5}", case_no)
    assert "五华区" in window.locator(".receipt").inner_text()
    shots.take(window, "window-receipt", full_page=True)
    if shots.on:
        window.emulate_media(media="print")
        shots.take(window, "window-receipt-print", full_page=True)
        window.emulate_media(media="screen")

    # The worker forwards it to 五华区 for real.
    wait_for(lambda: status_of(migrated.engine, case_no) == "received", 30, "forwarding")

    # 五华's clerk: the queue, the case with its scan, claim by keyboard, accept, complete.
    office = _context(browser, live).new_page()
    _staff_login(office, clerk)
    assert office.url.endswith("/office/")
    row = office.locator("tr", has_text=case_no)
    assert "办理地已接收" in row.inner_text()
    shots.take(office, "office-queue")
    row.get_by_role("link", name=case_no).click()
    office.get_by_role("link", name="身份证.png").click()
    expect(office.locator("figure.scan img")).to_be_visible()
    shots.take(office, "office-case", full_page=True)
    office.get_by_role("button", name="认领办件").focus()
    with office.expect_navigation():
        office.keyboard.press("Enter")
    assert "已认领" in office.locator(".flash").inner_text()
    assert office.get_by_role("button", name="认领办件").count() == 0  # it is mine now
    office.get_by_role("button", name="受理", exact=True).click()
    assert status_of(migrated.engine, case_no) == "accepted"
    office.fill("#document_no", "五社保〔2026〕118号")
    office.locator("#form-complete").get_by_role("button", name="办结").click()
    assert "已办结" in office.locator(".flash").inner_text()
    assert status_of(migrated.engine, case_no) == "completed"

    # Back at 富民's window: hand out the result, then the citizen's rating.
    window.goto(f"/cases/{case_no}")
    window.get_by_role("button", name="确认送达").click()
    assert "已送达结果" in window.locator(".flash").inner_text()
    window.get_by_label("非常满意").check()
    window.get_by_role("button", name="录入评价").click()
    assert "评价已录入" in window.locator(".flash").inner_text()
    assert "非常满意" in window.locator("table.kv").inner_text()
    shots.take(window, "window-case", full_page=True)

    # 五华's supervisor sees the completion in this month's figures.
    boss.reload()
    assert _figure(boss, "completed") == completed_before + 1
    assert _figure(boss, "forwarded") >= 1
    average = boss.locator("[data-figure=average_working_days] .value").inner_text()
    assert float(average) >= 0  # a number once something was completed, not "—"
    assert boss.locator("svg[role=img]").count() >= 2
    shots.take(boss, "supervisor-dashboard", full_page=True)
    boss.goto("/reports/")
    expect(boss.get_by_role("link", name="Excel（XLSX）")).to_be_visible()
    shots.take(boss, "auditor-report", full_page=True)
