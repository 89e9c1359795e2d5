"""Cross-field rules for a person file: pure functions over cleaned values, no ORM.

The web form, the API and the spreadsheet importer parse their input differently, then all
call check_person, so a file is held to the same rules whichever way it arrives.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any

from sanshe.lib.idnumber import IdNumberError, check_consistency, parse_id_number

# The district's plausible coordinates are checked against China's bounding box only;
# a street-level check belongs to the map, not to data entry.
LAT_RANGE = (Decimal("3.8"), Decimal("53.6"))
LON_RANGE = (Decimal("73.5"), Decimal("135.1"))
_NAME = re.compile(r"^[\u3400-\u9fff\u00b7·A-Za-z\s]{1,50}$")
MIN_AGE_ON_FILE = 0
MAX_AGE_ON_FILE = 125

Errors = dict[str, list[str]]


def _add(errors: Errors, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def check_person(values: dict[str, Any], *, today: dt.date) -> Errors:
    """Check and complete values in place (birth date and sex from the ID); return errors by field."""
    errors: Errors = {}
    name = (values.get("name") or "").strip()
    values["name"] = name
    if not name:
        _add(errors, "name", "请填写姓名")
    elif not _NAME.match(name):
        _add(errors, "name", "姓名只能包含汉字、字母和间隔号“·”")

    raw_id = values.get("id_number") or ""
    if raw_id:
        try:
            parsed = parse_id_number(raw_id, today=today)
        except IdNumberError as exc:
            _add(errors, "id_number", str(exc))
        else:
            values["id_number"] = parsed.number
            for message in check_consistency(parsed, birth_date=values.get("birth_date"), sex=values.get("sex")):
                _add(errors, "id_number", message)
            if not values.get("birth_date"):
                values["birth_date"] = parsed.birth_date
            if not values.get("sex") or values.get("sex") in ("0", "9"):
                values["sex"] = parsed.sex

    birth = values.get("birth_date")
    if not birth:
        _add(errors, "birth_date", "请填写出生日期或身份证号码")
    elif birth > today:
        _add(errors, "birth_date", "出生日期不能晚于今天")
    elif today.year - birth.year > MAX_AGE_ON_FILE:
        _add(errors, "birth_date", f"出生日期 {birth.isoformat()} 不合理（超过{MAX_AGE_ON_FILE}岁）")
    if not values.get("sex"):
        _add(errors, "sex", "请选择性别")

    if values.get("tekun_support_mode") and values.get("economic_status") != "tekun":
        _add(errors, "tekun_support_mode", "只有特困供养人员才填写供养方式")
    category, grade = values.get("disability_category"), values.get("disability_grade")
    if bool(category) != bool(grade):
        _add(errors, "disability_grade", "残疾类别和残疾等级需同时填写")

    lat, lon = values.get("latitude"), values.get("longitude")
    if (lat is None) != (lon is None):
        _add(errors, "latitude", "经纬度需同时填写")
    if lat is not None and not LAT_RANGE[0] <= Decimal(lat) <= LAT_RANGE[1]:
        _add(errors, "latitude", "纬度超出中国境内范围")
    if lon is not None and not LON_RANGE[0] <= Decimal(lon) <= LON_RANGE[1]:
        _add(errors, "longitude", "经度超出中国境内范围")
    for field, label in (("monthly_income", "月收入"), ("monthly_medical_costs", "月医疗支出")):
        amount = values.get(field)
        if amount is not None and Decimal(amount) < 0:
            _add(errors, field, f"{label}不能为负数")
    return errors
