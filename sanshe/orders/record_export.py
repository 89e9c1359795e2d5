"""Filtering service records for reviewers and writing them to a workbook (.xlsx); the pages and
the API share both."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font

from sanshe.core.errors import UserError
from sanshe.orders.flags import flag_labels
from sanshe.orders.models import Flag, ReviewStatus, ServiceRecord

EXPORT_COLUMNS = ("记录号", "工单号", "服务日期", "服务对象", "社区", "服务项目", "服务机构", "护理员", "服务地点",
                  "签到", "签退", "时长（分钟）", "签到距离（米）", "完成内容", "异常标记", "核查状态", "确认方式",
                  "确认人", "评价", "评价意见")
WIDTHS = (8, 8, 11, 10, 12, 14, 24, 10, 30, 17, 17, 10, 10, 30, 30, 10, 10, 10, 6, 24)


@dataclass(frozen=True, slots=True)
class RecordFilter:
    flag: str = ""  # a Flag value, "any" for any flag, "" for all records
    review: str = ""  # a ReviewStatus value ("pending" …) or ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> RecordFilter:
        flag = params.get("flag", "") or ""
        review = params.get("review", "") or ""
        if flag and flag != "any" and flag not in Flag.values:
            raise UserError("异常标记不正确", field="flag")
        if review and review not in ReviewStatus.values:
            raise UserError("核查状态不正确", field="review")
        days: list[dt.date | None] = []
        for key in ("date_from", "date_to"):
            raw = (params.get(key, "") or "").strip()
            try:
                days.append(dt.date.fromisoformat(raw) if raw else None)
            except ValueError:
                raise UserError("日期格式应为 YYYY-MM-DD", field=key) from None
        return cls(flag=flag, review=review, date_from=days[0], date_to=days[1])

    def apply(self, records: QuerySet[ServiceRecord]) -> QuerySet[ServiceRecord]:
        if self.flag == "any":
            records = records.exclude(flags=[])
        elif self.flag:
            # JSON "contains" is not on SQLite; the flag values are plain words, so a text match on
            # the stored list is exact enough ("short" is no substring of another flag's quoted value).
            records = records.filter(flags__icontains=f'"{self.flag}"')
        if self.review:
            records = records.filter(review_status=self.review)
        if self.date_from:
            records = records.filter(service_date__gte=self.date_from)
        if self.date_to:
            records = records.filter(service_date__lte=self.date_to)
        return records

    def query(self) -> str:
        parts = [f"{k}={v}" for k, v in (("flag", self.flag), ("review", self.review),
                                          ("date_from", self.date_from or ""), ("date_to", self.date_to or "")) if v]
        return "&".join(parts)


def with_related(records: QuerySet[ServiceRecord]) -> QuerySet[ServiceRecord]:
    return records.select_related("person", "order__community", "item", "provider", "caregiver").order_by(
        "-service_date", "-check_in_at")


def _time(value: dt.datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def records_xlsx(records: Iterable[ServiceRecord]) -> tuple[bytes, int]:
    """The records as a workbook; returns (content, row count)."""
    wb = Workbook()
    ws = wb.active
    assert ws is not None  # noqa: S101 - a new workbook always has a sheet
    ws.title = "服务记录"
    ws.append(list(EXPORT_COLUMNS))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for index, width in enumerate(WIDTHS):
        ws.column_dimensions[chr(ord("A") + index)].width = width
    count = 0
    for r in records:
        ws.append([
            r.pk, r.order_id, r.service_date.isoformat(), r.person.name, r.order.community.name, r.item.name,
            r.provider.name, r.caregiver.name, r.address, _time(r.check_in_at), _time(r.check_out_at),
            r.minutes if r.minutes is not None else "", r.check_in_distance_m if r.check_in_distance_m is not None else "",
            "、".join(r.tasks_done), "；".join(flag_labels(r.flags)), r.get_review_status_display(),
            r.get_confirmation_display(), r.confirmed_by_name, r.rating or "", r.rating_comment,
        ])
        count += 1
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue(), count

