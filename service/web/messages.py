"""Chinese for form errors: the API's marshmallow messages (English) as the window reads them.

The schemas stay the single place that decides what is valid; this only translates what they say.
"""

import re

FIELD_LABELS: dict[str, str] = {
    "applicant.name": "申请人姓名",
    "applicant.id_number": "身份证号码",
    "applicant.phone": "联系电话",
    "applicant.address": "联系地址",
    "applicant": "申请人",
    "facts": "办理地依据",
    "item_code": "事项编码",
    "materials": "材料",
    "deferred_materials": "容缺材料",
    "result_delivery": "结果送达方式",
    "note": "备注",
    "reason": "原因",
    "outcome": "办理结果",
    "document_no": "文书编号",
    "method": "送达方式",
    "carrier": "快递公司",
    "tracking_no": "快递单号",
    "level": "评价等级",
    "comment": "评价意见",
    "version": "办件版本",
    "username": "用户名",
    "password": "密码",
    "month": "月份",
    "district": "行政区",
    "file": "文件",
    "procedure": "特别程序",
    "mailed_on": "寄出日期",
}

_EXACT: dict[str, str] = {
    "Missing data for required field.": "此项必填。",
    "Field may not be null.": "此项必填。",
    "Not a valid integer.": "请填写整数。",
    "Not a valid string.": "格式不正确。",
    "Not a valid date.": "请填写有效日期（年-月-日）。",
    "Not a valid boolean.": "格式不正确。",
    "Not a valid list.": "格式不正确。",
    "Unknown field.": "不能识别的字段。",
    "Invalid input type.": "格式不正确。",
    "Must be 18 characters: 17 digits and a check digit (0-9 or X).": (
        "身份证号码应为18位：17位数字加1位校验码（0-9或X）。"
    ),
    "The birth date in the ID number is not a real date.": "身份证号码中的出生日期无效。",
    "The birth date in the ID number is out of range.": "身份证号码中的出生日期超出范围。",
    "Check digit does not match (GB 11643).": "身份证号码校验位不正确，请核对。",
    "Must be a mainland mobile number or a landline with area code.": (
        "请填写11位手机号码或带区号的固定电话。"
    ),
    "Must be 1 to 40 Chinese characters (any CJK ideograph), parts joined by '·'.": (
        "姓名应为1至40个汉字，少数民族姓名用“·”分隔。"
    ),
    "Each material may be listed once.": "每项材料只能填写一次。",
    "Required when the result is mailed.": "邮寄送达时必填。",
    "Must be 6-digit GB/T 2260 district code.": "请选择行政区。",
    "Must be a 6-digit GB/T 2260 district code.": "请选择行政区。",
    "Must be YYYY-MM.": "请按“年-月”填写，如 2026-11。",
    "Must not be a month still to come.": "不能选择尚未到来的月份。",
    "Not a district Tongban serves.": "不在通办服务范围内的行政区。",
    "NUL characters are not allowed.": "含有不可见的控制字符。",
}

_PATTERNS: list[tuple[re.Pattern, str]] = [
    (re.compile(r"^Must be one of: .*\.$"), "请从列表中选择。"),
    (re.compile(r"^Shorter than minimum length (\d+)\.$"), "至少{0}个字符。"),
    (re.compile(r"^Longer than maximum length (\d+)\.$"), "最多{0}个字符。"),
    (re.compile(r"^Length must be between (\d+) and (\d+)\.$"), "长度应为{0}至{1}个字符。"),
    (re.compile(r"^Length must be (\d+)\.$"), "长度应为{0}个字符。"),
    (
        re.compile(r"^Must be greater than or equal to (\d+) and less than or equal to (\d+)\.$"),
        "应在{0}至{1}之间。",
    ),
    (re.compile(r"^Must be between today and (\d+) days from today\.$"), "应在今天至{0}天内。"),
    (re.compile(r"^Handed in already, not deferred: (.*)\.$"), "已收取的材料不能再容缺：{0}。"),
]


def message_zh(message: str) -> str:
    """One validation message in Chinese; an unknown one says only that the entry is wrong."""
    if message in _EXACT:
        return _EXACT[message]
    for pattern, text in _PATTERNS:
        found = pattern.match(message)
        if found:
            return text.format(*found.groups())
    return "填写有误，请检查。"


def label_of(field: str) -> str:
    """The Chinese label of a dotted field path; list positions and unknown parts are dropped."""
    parts = [p for p in field.split(".") if not p.isdigit()]
    while parts:
        key = ".".join(parts)
        if key in FIELD_LABELS:
            return FIELD_LABELS[key]
        parts.pop()
    return ""
