"""Pure pieces of the pages: Chinese messages for schema errors, and the SVG charts."""

import pytest

from service.web.forms import by_material, errors_zh, summary_zh
from service.web.messages import message_zh
from service.web.supervisor.charts import grouped_bars, horizontal_bars

pytestmark = pytest.mark.unit


def test_schema_messages_in_chinese_with_labels():
    errors = errors_zh(
        {
            "applicant": {"id_number": ["Check digit does not match (GB 11643)."]},
            "note": ["Longer than maximum length 500."],
            "weird": ["Something nobody translated."],
        }
    )
    assert errors["applicant.id_number"] == ["身份证号码校验位不正确，请核对。"]
    assert summary_zh(errors) == [
        "身份证号码：身份证号码校验位不正确，请核对。",
        "备注：最多500个字符。",
        "填写有误，请检查。",
    ]
    assert message_zh("Must be one of: window, mail.") == "请从列表中选择。"


def test_list_positions_become_material_codes():
    body = {"materials": [{"code": "M01"}, {"code": "M04"}], "deferred_materials": []}
    errors = by_material({"materials.1.copies": ["请填写整数。"], "note": ["x"]}, body)
    assert errors == {"materials.M04": ["请填写整数。"], "note": ["x"]}


def test_charts_are_escaped_svg_without_style_attributes():
    chart = grouped_bars("趋势", ["<b>11月", "12月"], [("收件量", [3, 5]), ("办结量", [1, 4])])
    assert chart.startswith("<svg") and "<title>趋势</title>" in chart
    assert "&lt;b&gt;11月" in chart and "<b>" not in chart
    assert "style=" not in chart and ">5<" in chart
    bars = horizontal_bars("评价", [("非常满意", 2), ("不满意", 0)])
    assert bars.count("<rect") == 2 and "style=" not in bars


def test_the_case_page_has_a_form_for_every_step_people_take():
    from pathlib import Path

    from werkzeug.datastructures import MultiDict

    from service.cases.lifecycle import Action
    from service.cases.schemas import STEP_SCHEMAS
    from service.web.casepage.steps import step_body

    pages = Path(__file__).resolve().parents[2] / "service/web/casepage/templates/casepage"
    template = (pages / "case.html").read_text("utf-8")
    assert [a.value for a in STEP_SCHEMAS if f"action_name='{a.value}'" not in template] == []
    # A form's plain fields reach the step's schema as they are named there, and only those.
    form = MultiDict({"version": "3", "reason": " 材料不全 ", "tracking_no": "1180012345678"})
    assert step_body(Action.REJECT, form, []) == {"version": "3", "reason": "材料不全"}
    assert step_body(Action.DELIVER_RESULT, form, []) == {
        "version": "3",
        "tracking_no": "1180012345678",
    }
