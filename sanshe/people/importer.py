"""Roster import (名单导入): a spreadsheet of people, as 低保/特困 lists arrive from other
departments, validated row by row and imported only after the user confirms.

Two passes over the same file, both run as background tasks (people.tasks):

1. validate: every row is parsed and checked by the rules every other entry path uses
   (rules.check_person, the user's region scope, duplicates inside the file and against
   files the user may not edit); errors are stored per row and cell. Nothing is written.
2. import: after the user confirms (and, if the file has errors, explicitly chooses to import
   the valid rows), the file is read again and the valid rows are written in batches. A row
   whose ID number is already on file updates that file; blank cells never erase stored values.

Re-running an import is safe: people are matched by the blind index of their ID number.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation
from python_calamine import CalamineWorkbook

from sanshe.accounts.access import capability_scope, has_capability
from sanshe.accounts.models import Capability, Region, RegionLevel
from sanshe.core.audit import record_event
from sanshe.core.bulk import bulk_insert_values, bulk_update_rows, reserve_ids
from sanshe.core.crypto import id_blind_index
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction, Channel
from sanshe.lib.idnumber import IdNumberError, parse_id_number
from sanshe.lib.masking import mask_id_number
from sanshe.lib.names import pinyin_initials
from sanshe.lib.phone import PhoneError, normalize_phone
from sanshe.people.access import visible_people
from sanshe.people.actions import (
    PERSON_FIELDS,
    diff_person,
    duplicate_message,
    file_number_for,
    id_number_columns,
    snapshot,
)
from sanshe.people.codes import (
    CHRONIC_CONDITIONS,
    ETHNICITY_BY_NAME,
    ETHNICITY_CHOICES,
    DisabilityCategory,
    DisabilityGrade,
    EconomicStatus,
    LivingArrangement,
    MaritalStatus,
    Sex,
    TekunSupportMode,
)
from sanshe.people.models import (
    SPECIAL_GROUP_FIELDS,
    ChangeKind,
    ImportJob,
    ImportRowError,
    ImportStatus,
    Person,
    PersonChange,
)
from sanshe.people.rules import check_person
from sanshe.people.signals import file_changed

BATCH_SIZE = 1000
FOREIGN_KEYS = {"residence_region": "residence_region_id", "registered_region": "registered_region_id"}
MAX_ERRORS_STORED = 20_000
SHEET_NAME = "人员名单"


class ImportFileError(Exception):
    """The file as a whole cannot be read (not a spreadsheet, no header, missing columns)."""


# ---------------------------------------------------------------------------------------------
# Columns


@dataclass(frozen=True)
class Column:
    header: str
    field: str
    parse: Callable[[Any], Any]
    required: bool = False
    note: str = ""
    choices: tuple[str, ...] = ()


class CellError(ValueError):
    pass


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _choice(choices: list[tuple[Any, str]], label: str) -> Callable[[Any], Any]:
    by_text = {str(lbl): code for code, lbl in choices} | {str(code): code for code, _ in choices}

    def parse(value: Any) -> Any:
        text = _text(value)
        if text not in by_text:
            shown = "、".join(str(lbl) for _, lbl in choices[:10])
            raise CellError(f"{label}“{text}”不在代码表中，可填：{shown}{'等' if len(choices) > 10 else ''}")
        return by_text[text]

    return parse


def _id_number(value: Any) -> str:
    if isinstance(value, float):
        raise CellError("身份证号被表格当成了数字，末几位已丢失：请把该列设为“文本”格式后重新填写")
    return _text(value).upper().replace(" ", "")


def _date(value: Any) -> dt.date:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    text = _text(value).replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").rstrip("日")
    try:
        if text.isdigit() and len(text) == 8:
            return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))
        return dt.date.fromisoformat("-".join(p.zfill(2) for p in text.split("-")))
    except ValueError:
        raise CellError(f"日期“{_text(value)}”格式不正确，应为 1950-03-01") from None


def _sex(value: Any) -> str:
    text = _text(value)
    table = {"男": Sex.MALE, "女": Sex.FEMALE, "1": Sex.MALE, "2": Sex.FEMALE}
    if text not in table:
        raise CellError(f"性别“{text}”应填“男”或“女”")
    return str(table[text])


def _ethnicity(value: Any) -> str:
    text = _text(value)
    if text in ETHNICITY_BY_NAME:
        return ETHNICITY_BY_NAME[text]
    if text.zfill(2) in dict(ETHNICITY_CHOICES):
        return text.zfill(2)
    raise CellError(f"民族“{text}”不在 GB 3304 代码表中（如：汉族、回族）")


def _phone(value: Any) -> str:
    try:
        return normalize_phone(_text(value))
    except PhoneError as exc:
        raise CellError(str(exc)) from None


def _decimal(label: str) -> Callable[[Any], Decimal]:
    def parse(value: Any) -> Decimal:
        try:
            return Decimal(_text(value).replace(",", "").replace("元", ""))
        except InvalidOperation:
            raise CellError(f"{label}“{_text(value)}”应为数字") from None

    return parse


def _coordinate(label: str) -> Callable[[Any], Decimal]:
    number = _decimal(label)
    return lambda value: number(value).quantize(Decimal("0.000001"))


def _yes_no(value: Any) -> bool:
    text = _text(value)
    if text in ("是", "Y", "y", "1", "TRUE", "True", "true", "√"):
        return True
    if text in ("否", "N", "n", "0", "FALSE", "False", "false", "×"):
        return False
    raise CellError(f"“{text}”应填“是”或“否”")


def _conditions(value: Any) -> list[str]:
    parts = [p.strip() for p in _text(value).replace("，", "、").replace(",", "、").replace(";", "、").split("、")]
    parts = [p for p in parts if p]
    unknown = [p for p in parts if p not in CHRONIC_CONDITIONS]
    if unknown:
        raise CellError(f"慢性病“{'、'.join(unknown)}”不在病种表中，可填：{'、'.join(CHRONIC_CONDITIONS)}")
    return parts


def _grade(value: Any) -> int:
    text = _text(value)
    for code, label in DisabilityGrade.choices:
        if text in (str(code), label, f"{label}残疾"):
            return int(code)
    raise CellError(f"残疾等级“{text}”应为一级至四级")


def _region_text(value: Any) -> str:
    return _text(value)


def _labels(choices: list[tuple[Any, str]]) -> tuple[str, ...]:
    return tuple(str(label) for _, label in choices)


COLUMNS: tuple[Column, ...] = (
    Column("姓名", "name", _text, required=True),
    Column("身份证号", "id_number", _id_number, required=True, note="18位（15位旧号自动升位），请按文本格式填写"),
    Column("性别", "sex", _sex, note="男/女；可不填，由身份证号推出", choices=("男", "女")),
    Column("出生日期", "birth_date", _date, note="如 1950-03-01；可不填，由身份证号推出"),
    Column("民族", "ethnicity", _ethnicity, note="如 汉族"),
    Column("联系电话", "phone", _phone),
    Column("居住社区", "residence_region", _region_text, required=True,
           note="12位区划代码，或本辖区内唯一的社区（村）名称"),
    Column("居住地址", "address", _text, required=True),
    Column("户籍地", "registered_region", _region_text, note="12位区划代码或社区名称；可不填"),
    Column("户籍地址", "registered_address", _text),
    Column("居住情况", "living_arrangement", _choice(LivingArrangement.choices, "居住情况"),
           choices=_labels(LivingArrangement.choices)),
    Column("婚姻状况", "marital_status", _choice(MaritalStatus.choices, "婚姻状况"),
           choices=_labels(MaritalStatus.choices)),
    Column("经济状况", "economic_status", _choice(EconomicStatus.choices, "经济状况"),
           choices=_labels(EconomicStatus.choices)),
    Column("特困供养方式", "tekun_support_mode", _choice(TekunSupportMode.choices, "特困供养方式"),
           choices=_labels(TekunSupportMode.choices)),
    Column("月收入（元）", "monthly_income", _decimal("月收入")),
    Column("月医疗支出（元）", "monthly_medical_costs", _decimal("月医疗支出")),
    *(Column(label, name, _yes_no, note="是/否", choices=("是", "否")) for name, label in SPECIAL_GROUP_FIELDS.items()),
    Column("残疾类别", "disability_category", _choice(DisabilityCategory.choices, "残疾类别"),
           choices=_labels(DisabilityCategory.choices)),
    Column("残疾等级", "disability_grade", _grade, choices=_labels(DisabilityGrade.choices)),
    Column("残疾人证号", "disability_certificate_no", _text),
    Column("慢性病", "chronic_conditions", _conditions, note="多个用顿号分隔，如 高血压、糖尿病"),
    Column("过敏史", "allergies", _text),
    Column("长期用药", "medications", _text),
    Column("已签约家庭医生", "family_doctor_signed", _yes_no, note="是/否", choices=("是", "否")),
    Column("家庭医生/签约机构", "family_doctor", _text),
    Column("纬度", "latitude", _coordinate("纬度")),
    Column("经度", "longitude", _coordinate("经度")),
    Column("备注", "notes", _text),
)
COLUMN_BY_HEADER = {c.header: c for c in COLUMNS}
HEADER_ALIASES = {"公民身份号码": "身份证号", "身份证号码": "身份证号", "电话": "联系电话", "手机号": "联系电话",
                  "社区": "居住社区", "所在社区": "居住社区", "地址": "居住地址", "现住址": "居住地址"}
TEXT_LIMITS = {"name": 50, "address": 200, "registered_address": 200, "disability_certificate_no": 30,
               "allergies": 200, "medications": 300, "family_doctor": 100, "notes": 2000}


def _normalise_header(text: Any) -> str:
    header = _text(text).replace("*", "").replace("＊", "").replace(" ", "").replace("\n", "")
    header = header.replace("(", "（").replace(")", "）")
    return HEADER_ALIASES.get(header, header)


# ---------------------------------------------------------------------------------------------
# Template


def build_template() -> bytes:
    """The import template: the people sheet with drop-downs, and a sheet of instructions."""
    wb = Workbook()
    ws = wb.worksheets[0]
    ws.title = SHEET_NAME
    bold = Font(bold=True)
    required_fill = PatternFill("solid", fgColor="FDE9D9")
    for index, column in enumerate(COLUMNS, start=1):
        cell = ws.cell(row=1, column=index, value=f"{column.header}*" if column.required else column.header)
        cell.font = bold
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        if column.required:
            cell.fill = required_fill
        letter = cell.column_letter
        ws.column_dimensions[letter].width = max(10, min(28, len(column.header) * 2 + 4))
        if column.field in ("id_number", "phone", "residence_region", "registered_region", "disability_certificate_no"):
            for row in range(2, 5002):
                ws.cell(row=row, column=index).number_format = "@"
        if column.choices:
            validation = DataValidation(type="list", formula1=f'"{",".join(column.choices)}"', allow_blank=True,
                                        showErrorMessage=True, errorTitle="取值不在代码表中",
                                        error="请从下拉列表中选择")
            validation.add(f"{letter}2:{letter}100001")
            ws.add_data_validation(validation)
    ws.freeze_panes = "C2"
    notes = wb.create_sheet("填写说明")
    notes.column_dimensions["A"].width = 22
    notes.column_dimensions["B"].width = 90
    notes.append(["列", "说明"])
    for column in COLUMNS:
        explanation = column.note
        if column.choices and not explanation:
            explanation = "可填：" + "、".join(column.choices)
        notes.append([column.header + ("（必填）" if column.required else ""), explanation])
    notes.append([])
    for line in (
        "一、每行一人，第一行为表头，请勿修改表头文字；列的顺序可以调整，多余的列会被忽略。",
        "二、同一身份证号已建档的，导入时更新该档案：表中有值的项覆盖原值，空白项保留原值，不会清空已有信息；更新时除身份证号外的必填列可以留空。",
        "三、上传后系统逐行校验并给出错误清单；文件有错误时，可修改后重新上传，或选择“仅导入有效行”。",
        "四、居住社区须在您的管辖范围内；身份证号须通过 GB 11643 校验，出生日期和性别须与身份证号一致。",
    ):
        notes.append([line])
    for cell in notes[1]:
        cell.font = bold
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass
class Sheet:
    columns: list[Column | None]  # by position; None for columns the template does not know
    rows: Iterator[tuple[int, list[Any]]]  # (spreadsheet row number, cells)
    total: int
    ignored_headers: list[str] = field(default_factory=list)


def open_sheet(path: Path | str) -> Sheet:
    try:
        workbook = CalamineWorkbook.from_path(str(path))
    except Exception:
        raise ImportFileError("无法读取该文件：请上传 Excel 文件（.xlsx 或 .xls），可先下载导入模板") from None
    names = workbook.sheet_names
    sheet_name = SHEET_NAME if SHEET_NAME in names else names[0] if names else None
    if sheet_name is None:
        raise ImportFileError("文件中没有工作表")
    try:
        data = workbook.get_sheet_by_name(sheet_name).to_python(skip_empty_area=False)
    except Exception:
        raise ImportFileError("无法读取工作表内容，文件可能已损坏") from None
    header_row = next((i for i, row in enumerate(data[:10]) if "姓名" in {_normalise_header(c) for c in row}), None)
    if header_row is None:
        raise ImportFileError("未找到表头：前 10 行中没有“姓名”列，请使用导入模板")
    headers = [_normalise_header(c) for c in data[header_row]]
    columns = [COLUMN_BY_HEADER.get(h) for h in headers]
    seen = [c.header for c in columns if c is not None]
    duplicated = [h for h, n in Counter(seen).items() if n > 1]
    if duplicated:
        raise ImportFileError(f"表头重复：{'、'.join(duplicated)}")
    missing = [c.header for c in COLUMNS if c.required and c.header not in seen]
    if missing:
        raise ImportFileError(f"缺少必填列：{'、'.join(missing)}（请使用导入模板）")
    body = data[header_row + 1 :]
    while body and all(_text(c) == "" for c in body[-1]):
        body.pop()

    def rows() -> Iterator[tuple[int, list[Any]]]:
        for offset, cells in enumerate(body):
            if any(_text(c) != "" for c in cells):
                yield header_row + 2 + offset, cells

    total = sum(1 for cells in body if any(_text(c) != "" for c in cells))
    ignored = [h for h, c in zip(headers, columns, strict=False) if c is None and h]
    return Sheet(columns=columns, rows=rows(), total=total, ignored_headers=ignored)


# ---------------------------------------------------------------------------------------------
# Checking


@dataclass
class RowResult:
    row_number: int
    values: dict[str, Any] = field(default_factory=dict)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (column header, shown value, message)
    existing: Person | None = None

    @property
    def ok(self) -> bool:
        return not self.errors


class RegionResolver:
    """Residence regions by 12-digit code or by a community name unique in the user's scope."""

    def __init__(self, acting_user: Any) -> None:
        self.scope = capability_scope(acting_user, Capability.EDIT_PEOPLE)
        communities = list(Region.objects.filter(level=RegionLevel.COMMUNITY))
        self.by_code = {r.code: r for r in Region.objects.all()}
        names: dict[str, list[Region]] = {}
        for region in communities:
            names.setdefault(region.name, []).append(region)
        self.by_name = names

    def resolve(self, text: str, *, in_scope: bool) -> Region:
        if text.isdigit():
            region = self.by_code.get(text.ljust(12, "0") if len(text) < 12 else text)
            if region is None:
                raise CellError(f"区划代码“{text}”不存在")
        else:
            matches = self.by_name.get(text, [])
            if in_scope:
                matches = [r for r in matches if self.scope.covers(r.code)] or matches
            if not matches:
                raise CellError(f"未找到名为“{text}”的社区（村），请填写12位区划代码")
            if len(matches) > 1:
                raise CellError(f"有多个名为“{text}”的社区，请改填12位区划代码")
            region = matches[0]
        if in_scope:
            if region.level != RegionLevel.COMMUNITY:
                raise CellError(f"“{region.name}”不是社区（村），居住地须填到社区一级")
            if not self.scope.covers(region.code):
                raise CellError(f"“{region.name}”不在您的管辖范围内")
        return region


class RowChecker:
    """Parses and checks rows in batches; knows the files already stored and the IDs seen so far."""

    def __init__(self, columns: list[Column | None], acting_user: Any, today: dt.date) -> None:
        self.columns = columns
        self.user = acting_user
        self.today = today
        self.regions = RegionResolver(acting_user)
        self.seen_ids: dict[str, int] = {}
        self.editable = visible_people(acting_user, Capability.EDIT_PEOPLE)

    def parse(self, row_number: int, cells: list[Any]) -> RowResult:
        result = RowResult(row_number)
        for column, cell in zip(self.columns, cells, strict=False):
            if column is None or _text(cell) == "":
                continue
            try:
                if column.field in ("residence_region", "registered_region"):
                    value: Any = self.regions.resolve(_text(cell), in_scope=column.field == "residence_region")
                else:
                    value = column.parse(cell)
                limit = TEXT_LIMITS.get(column.field)
                if limit and isinstance(value, str) and len(value) > limit:
                    raise CellError(f"{column.header}不能超过 {limit} 个字")
            except CellError as exc:
                result.errors.append((column.header, self._shown(column, cell), str(exc)))
            else:
                result.values[column.field] = value
        if "id_number" not in result.values and not any(e[0] == "身份证号" for e in result.errors):
            result.errors.append(("身份证号", "", "身份证号为必填项"))
        return result

    @staticmethod
    def _shown(column: Column, cell: Any) -> str:
        text = _text(cell)
        return mask_id_number(text) if column.field == "id_number" else text[:200]

    def check_batch(self, results: list[RowResult]) -> None:
        """Cross-row and database checks for a batch of parsed rows."""
        numbers: dict[str, RowResult] = {}
        for result in results:
            raw = result.values.get("id_number")
            if not raw:
                continue
            try:
                number = parse_id_number(raw, today=self.today).number
            except IdNumberError as exc:
                result.errors.append(("身份证号", mask_id_number(raw), str(exc)))
                result.values.pop("id_number")
                continue
            result.values["id_number"] = number
            if number in self.seen_ids:
                result.errors.append(("身份证号", mask_id_number(number),
                                      f"与第 {self.seen_ids[number]} 行的身份证号重复"))
                continue
            self.seen_ids[number] = result.row_number
            numbers[id_blind_index(number)] = result
        existing = {
            p.id_number_index: p
            for p in Person.objects.filter(id_number_index__in=list(numbers)).select_related(
                "residence_region", "registered_region")
        }
        editable = set(self.editable.filter(pk__in=[p.pk for p in existing.values()]).values_list("pk", flat=True))
        for index, result in numbers.items():
            person = existing.get(index)
            if person is None:
                continue
            if person.pk not in editable:
                result.errors.append(("身份证号", mask_id_number(result.values["id_number"]),
                                      duplicate_message(person, self.user) + "；您无权修改该档案"))
                continue
            result.existing = person
        for result in results:
            if result.errors and not result.values.get("id_number"):
                continue
            self._check_rules(result)

    def _check_rules(self, result: RowResult) -> None:
        values = dict(result.values)
        if result.existing is None:
            # A new file needs every required column; an update keeps what is stored.
            for column in COLUMNS:
                if column.required and column.field not in values and not any(
                    e[0] == column.header for e in result.errors
                ):
                    result.errors.append((column.header, "", f"新建档案时{column.header}为必填项"))
        else:
            merged = {name: getattr(result.existing, name) for name in PERSON_FIELDS}
            merged.update(values)
            values = merged
        for name, messages in check_person(values, today=self.today).items():
            owner = next((c for c in COLUMNS if c.field == name), None)
            header = owner.header if owner else name
            if any(e[0] == header for e in result.errors):
                continue  # the cell is already reported; one message per cell is clearer
            shown = values.get(name)
            shown_text = mask_id_number(str(shown)) if name == "id_number" and shown else _text(shown)
            result.errors.extend((header, shown_text, message) for message in messages)
        if not result.errors:
            result.values = values


# ---------------------------------------------------------------------------------------------
# Running a job


def _set(job: ImportJob, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(job, name, value)
    ImportJob.objects.filter(pk=job.pk).update(**fields)


def _batches(sheet: Sheet) -> Iterator[list[tuple[int, list[Any]]]]:
    batch: list[tuple[int, list[Any]]] = []
    for item in sheet.rows:
        batch.append(item)
        if len(batch) >= BATCH_SIZE:
            yield batch
            batch = []
    if batch:
        yield batch


def discard_file(job: ImportJob) -> None:
    """The uploaded spreadsheet holds full ID numbers in the clear: once a job is finished (or can
    never run) it is deleted; the masked error list stays in the database."""
    if job.file:
        job.file.delete(save=False)
        ImportJob.objects.filter(pk=job.pk).update(file="")


def _open_or_fail(job: ImportJob) -> Sheet | None:
    """The job's sheet, or None after marking the job failed (an unreadable file never runs)."""
    try:
        return open_sheet(job.file.path)
    except ImportFileError as exc:
        _set(job, status=ImportStatus.FAILED, message=str(exc), finished_at=timezone.now())
        discard_file(job)
        return None


def validate_job(job: ImportJob) -> ImportJob:
    """First pass: check every row and store the errors; write no person."""
    _set(job, status=ImportStatus.VALIDATING, started_at=timezone.now(), processed_rows=0, message="")
    ImportRowError.objects.filter(job=job).delete()
    sheet = _open_or_fail(job)
    if sheet is None:
        return job
    _set(job, total_rows=sheet.total)
    checker = RowChecker(sheet.columns, job.created_by, timezone.localdate())
    valid = errors = updates = stored = 0
    processed = 0
    for batch in _batches(sheet):
        results = [checker.parse(n, cells) for n, cells in batch]
        checker.check_batch(results)
        error_rows = []
        for result in results:
            if result.ok:
                valid += 1
                updates += result.existing is not None
            else:
                errors += 1
                for header, shown, message in result.errors:
                    if stored < MAX_ERRORS_STORED:
                        error_rows.append(ImportRowError(job=job, row_number=result.row_number, column=header,
                                                         value=shown[:200], message=message[:300]))
                        stored += 1
        ImportRowError.objects.bulk_create(error_rows)
        processed += len(batch)
        _set(job, processed_rows=processed, valid_rows=valid, error_rows=errors, updated_count=updates)
    message = ""
    if sheet.ignored_headers:
        message = f"以下列不在模板中，已忽略：{'、'.join(sheet.ignored_headers)}"
    if sheet.total == 0:
        _set(job, status=ImportStatus.FAILED, message="文件中没有数据行", finished_at=timezone.now())
        discard_file(job)
        return job
    _set(job, status=ImportStatus.VALIDATED, message=message[:500], finished_at=timezone.now())
    return job


def can_confirm(job: ImportJob, *, valid_rows_only: bool) -> str:
    """Empty when the job may be imported; otherwise the Chinese reason it may not."""
    if job.status != ImportStatus.VALIDATED:
        return "只有校验完成的导入才能确认"
    if job.valid_rows == 0:
        return "文件中没有可导入的有效行"
    if job.error_rows and not valid_rows_only:
        return f"文件有 {job.error_rows} 行错误：请修改后重新上传，或选择“仅导入有效行”"
    return ""


def import_job(job: ImportJob) -> ImportJob:
    """Second pass: write the valid rows in batches (each batch its own transaction)."""
    _set(job, status=ImportStatus.IMPORTING, started_at=timezone.now(), processed_rows=0,
         created_count=0, updated_count=0)
    sheet = _open_or_fail(job)
    if sheet is None:
        return job
    checker = RowChecker(sheet.columns, job.created_by, timezone.localdate())
    created = updated = skipped = processed = 0
    late_errors: list[ImportRowError] = []
    for batch in _batches(sheet):
        results = [checker.parse(n, cells) for n, cells in batch]
        checker.check_batch(results)
        good = [r for r in results if r.ok]
        for result in results:
            if not result.ok:
                skipped += 1
                if not job.valid_rows_only:
                    # Something changed since validation (another user filed the same person):
                    # report it instead of importing a row the user never saw as wrong.
                    late_errors.extend(ImportRowError(job=job, row_number=result.row_number, column=h,
                                                      value=v[:200], message=f"导入时发现：{m}"[:300])
                                       for h, v, m in result.errors)
        with transaction.atomic():
            c, u = _write_batch(good, job)
        created += c
        updated += u
        processed += len(batch)
        _set(job, processed_rows=processed, created_count=created, updated_count=updated)
    if late_errors:
        ImportRowError.objects.bulk_create(late_errors[:MAX_ERRORS_STORED])
    record_event(job.created_by, AuditAction.IMPORT_PEOPLE, channel=Channel.WEB, subject=job.original_name,
                 row_count=created + updated, detail={"job": job.pk, "created": created, "updated": updated,
                                                      "skipped": skipped})
    summary = f"新建 {created} 份档案，更新 {updated} 份"
    if skipped:
        summary += f"，跳过 {skipped} 行有错误的数据"
    _set(job, status=ImportStatus.DONE, message=summary, finished_at=timezone.now())
    discard_file(job)
    return job


def _write_batch(results: list[RowResult], job: ImportJob) -> tuple[int, int]:
    user = job.created_by
    reason = f"名单导入：{job.original_name}"[:300]
    new = [r for r in results if r.existing is None]
    old = [(r, r.existing) for r in results if r.existing is not None]

    per_region = Counter(r.values["residence_region"].pk for r in new)
    first_seq: dict[int, int] = {}
    for region_id, count in per_region.items():
        Region.objects.filter(pk=region_id).update(next_file_seq=F("next_file_seq") + count)
        first_seq[region_id] = Region.objects.values_list("next_file_seq", flat=True).get(pk=region_id) - count
    # New files are written as plain rows (building ~50-field model instances dominated large
    # imports); the history is taken from the same values.
    ids = reserve_ids(Person, len(new))
    history = {"actor_id": user.pk, "actor_name": user.display_name, "kind": ChangeKind.IMPORT, "reason": reason}
    rows: list[dict[str, Any]] = []
    for index, result in enumerate(new):
        values = {name: result.values[name] for name in PERSON_FIELDS if name in result.values}
        region = values["residence_region"]
        number = result.values["id_number"]
        row = {FOREIGN_KEYS.get(name, name): (v.pk if name in FOREIGN_KEYS and v is not None else v)
               for name, v in values.items()}
        row.update(
            file_number=file_number_for(region, first_seq[region.pk]), created_by_id=user.pk,
            name_initials=pinyin_initials(values["name"]), **id_number_columns(number),
        )
        if ids is not None:
            row["id"] = ids[index]
        first_seq[region.pk] += 1
        rows.append(row)
    bulk_insert_values(Person, rows, with_pk=ids is not None)
    if ids is None:  # databases that assign ids themselves: look them up by file number
        by_number = dict(Person.objects.filter(file_number__in=[r["file_number"] for r in rows])
                         .values_list("file_number", "id"))
        ids = [by_number[r["file_number"]] for r in rows]
    changes: list[dict[str, Any]] = []
    for person_id, row, result in zip(ids, rows, new, strict=True):
        shown = SimpleNamespace(**{name: result.values.get(name) for name in PERSON_FIELDS},
                                id_number_masked=row["id_number_masked"])
        changes.append({**history, "person_id": person_id,
                        "changes": {k: ["", v] for k, v in snapshot(shown, result.values).items()  # type: ignore[arg-type]
                                    if v not in ("", [])}})

    now = timezone.now()
    changed: list[Person] = []
    changed_fields: set[str] = set()
    for result, person in old:
        before = snapshot(person)
        for name in PERSON_FIELDS:
            if name in result.values:
                setattr(person, name, result.values[name])
        person.name_initials = pinyin_initials(person.name)
        diff = diff_person(before, person)
        if not diff:
            continue
        person.version += 1
        person.updated_at = now
        changed.append(person)
        changed_fields.update(n for n in diff if n in PERSON_FIELDS)
        changes.append({**history, "person_id": person.pk, "changes": diff})
    if changed:
        bulk_update_rows(Person, changed, sorted(changed_fields | {"version", "name_initials", "updated_at"}))
    bulk_insert_values(PersonChange, changes)
    file_changed.send(Person, person_ids=[*ids, *(p.pk for p in changed)], effective=timezone.localdate(),
                      reason=reason, acting_user=user)
    return len(rows), len(changed)


def error_report(job: ImportJob) -> bytes:
    """The per-row error list as a spreadsheet the user can work through."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("错误清单")
    ws.append(["行号", "列", "内容", "错误说明"])
    for error in job.row_errors.all().iterator(chunk_size=2000):
        ws.append([error.row_number, error.column, error.value, error.message])
    buffer = io.BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


# ---------------------------------------------------------------------------------------------
# Starting and confirming (called by the web views and the API)

ALLOWED_SUFFIXES = (".xlsx", ".xlsm", ".xls")


def start_import(user: Any, upload: Any) -> ImportJob:
    """Store an uploaded roster and queue its validation; refuse files that cannot be a roster."""
    from sanshe.people.tasks import validate_roster  # tasks import this module

    if not has_capability(user, Capability.IMPORT_PEOPLE):
        raise PermissionDenied("您没有导入名单的权限")
    name = (getattr(upload, "name", "") or "").strip()
    if not name.lower().endswith(ALLOWED_SUFFIXES):
        raise UserError("请上传 Excel 文件（.xlsx 或 .xls），可先下载导入模板", field="file")
    if (upload.size or 0) > settings.IMPORT_MAX_BYTES:
        raise UserError(f"文件不能超过 {settings.IMPORT_MAX_BYTES // (1024 * 1024)} MB", field="file")
    if not upload.size:
        raise UserError("上传的文件是空的", field="file")
    job = ImportJob(created_by=user, original_name=Path(name).name[:200])
    job.file.save(f"roster{Path(name).suffix.lower()}", upload, save=False)
    job.save()
    validate_roster.enqueue(job.pk)
    job.refresh_from_db()
    return job


def confirm_import(user: Any, job: ImportJob, *, valid_rows_only: bool) -> ImportJob:
    """Queue the import of a validated roster; a file with errors needs valid_rows_only."""
    from sanshe.people.tasks import import_roster

    problem = can_confirm(job, valid_rows_only=valid_rows_only)
    if problem:
        raise UserError(problem, field="valid_rows_only")
    updated = ImportJob.objects.filter(pk=job.pk, status=ImportStatus.VALIDATED).update(
        status=ImportStatus.IMPORTING, valid_rows_only=valid_rows_only, processed_rows=0)
    if not updated:
        raise UserError("该导入已确认，请勿重复提交")
    import_roster.enqueue(job.pk)
    job.refresh_from_db()
    return job


def cancel_import(user: Any, job: ImportJob) -> ImportJob:
    """Drop a validated roster that the user decided not to import; nothing was written."""

    if job.status not in (ImportStatus.VALIDATED, ImportStatus.FAILED):
        raise UserError("只有尚未导入的名单可以取消")
    ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.CANCELLED, finished_at=timezone.now())
    discard_file(job)
    job.refresh_from_db()
    return job
