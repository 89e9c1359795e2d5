"""Export of a filtered list of people to .xlsx: masked by default; in full only for roles that
may see full ID numbers, with a stated reason and a row cap. Every export is audited."""

from __future__ import annotations

import dataclasses
import tempfile
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from sanshe.accounts.access import has_capability
from sanshe.accounts.models import Capability
from sanshe.core.audit import record_event
from sanshe.core.crypto import id_cipher
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.lib.masking import mask_phone
from sanshe.people.access import visible_people
from sanshe.people.models import Person
from sanshe.people.queries import PersonFilter, filter_people


def _region_names(person: Person) -> tuple[str, str]:
    community = person.residence_region
    street = community.parent if community.parent_id else None
    return (street.name if street else ""), community.name


def _row(person: Person, *, full: bool, today: Any) -> list[Any]:
    street, community = _region_names(person)
    if full:
        name = person.name
        id_number = id_cipher().decrypt(person.id_number_cipher) if person.id_number_cipher else ""
        phone = person.phone
        birth: Any = person.birth_date
    else:
        name = person.masked_name
        id_number = person.id_number_masked
        phone = mask_phone(person.phone) if person.phone else ""
        birth = f"{person.birth_date.year}年"
    disability = ""
    if person.disability_category:
        disability = f"{person.get_disability_category_display()}{person.get_disability_grade_display()}"
    return [
        person.file_number, name, person.get_sex_display(), birth, person.age(today), id_number, phone,
        street, community, person.address, person.get_living_arrangement_display(),
        person.get_economic_status_display(), "、".join(person.special_groups()), disability,
        "、".join(person.chronic_conditions or []), "是" if person.family_doctor_signed else "否",
        person.get_status_display(), person.status_since or "",
    ]


HEADERS = ["档案编号", "姓名", "性别", "出生日期", "年龄", "身份证号", "联系电话", "街道（镇）", "社区（村）",
           "居住地址", "居住情况", "经济状况", "特殊群体", "残疾", "慢性病", "已签约家庭医生", "状态", "状态生效日期"]


def export_limit(full: bool) -> int:
    return settings.EXPORT_FULL_MAX_ROWS if full else settings.EXPORT_MAX_ROWS


def people_for_export(user: Any, person_filter: PersonFilter) -> QuerySet[Person]:
    return filter_people(visible_people(user), person_filter, today=timezone.localdate())


def export_people(
    user: Any,
    person_filter: PersonFilter,
    *,
    full: bool = False,
    reason: str = "",
    request: HttpRequest | None = None,
) -> tuple[Any, int]:
    """Write the filtered list to a temporary .xlsx file; return (open file, rows)."""
    if not has_capability(user, Capability.EXPORT_PEOPLE):
        raise PermissionDenied("您没有导出名单的权限")
    reason = reason.strip()
    if full:
        if not has_capability(user, Capability.REVEAL_ID):
            raise PermissionDenied("您的角色只能导出脱敏名单")
        if len(reason) < 2:
            raise UserError("导出完整信息须填写事由", field="reason")
    limit = export_limit(full)
    qs = people_for_export(user, person_filter)
    count = qs[: limit + 1].count()
    if count > limit:
        kind = "完整信息" if full else "名单"
        raise UserError(f"符合条件的超过 {limit:,} 人，导出{kind}请先缩小筛选范围（如按街道、社区或年龄段）")
    today = timezone.localdate()
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("人员名单")
    bold = Font(bold=True)
    header_cells = []
    for text in HEADERS:
        cell = WriteOnlyCell(ws, value=text)
        cell.font = bold
        header_cells.append(cell)
    ws.append(header_cells)
    rows = 0
    for person in qs.select_related("residence_region__parent").order_by("id").iterator(chunk_size=2000):
        ws.append(_row(person, full=full, today=today))
        rows += 1
    stamp = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    note = wb.create_sheet("说明")
    note.append(["导出人", user.display_name])
    note.append(["导出时间", stamp])
    note.append(["内容", "完整信息（含完整身份证号，请妥善保管，用后销毁）" if full else "脱敏名单"])
    if full:
        note.append(["事由", reason])
    note.append(["人数", rows])
    handle = tempfile.TemporaryFile()  # noqa: SIM115 - handed to the response, which closes it
    wb.save(handle)
    handle.seek(0)
    record_event(user, AuditAction.EXPORT_PEOPLE, request=request, reason=reason, row_count=rows,
                 subject="完整信息" if full else "脱敏名单",
                 detail={"full": full, "filter": {k: v for k, v in dataclasses.asdict(person_filter).items() if v}})
    return handle, rows
