"""Reading submitted values for the catalogue's actions: the page's form and the API send the same
fields (text from a form, typed values from JSON), and every problem is collected under its field so
both show the same Chinese message. Nothing is written until all fields pass."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import models

from sanshe.core.errors import ValidationFailed

# Inside China (the platform serves Chinese districts): a point outside is a typo or swapped lat/lon.
LATITUDE_RANGE = (Decimal(3), Decimal(54))
LONGITUDE_RANGE = (Decimal(73), Decimal(136))


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


class Checker:
    """Collects field errors while reading values; `done()` raises them together."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = values
        self.errors: dict[str, list[str]] = {}

    def fail(self, field: str, message: str) -> None:
        self.errors.setdefault(field, []).append(message)

    def done(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)

    def given(self, field: str) -> bool:
        return field in self.values

    def text(self, field: str, label: str, *, max_length: int, required: bool = True) -> str:
        raw = self.values.get(field)
        value = "" if raw is None else str(raw).strip()
        if not value and required:
            self.fail(field, f"请填写{label}")
        elif len(value) > max_length:
            self.fail(field, f"{label}不能超过 {max_length} 个字")
        return value

    def choice(self, field: str, label: str, choices: type[models.TextChoices], *, required: bool = True) -> str:
        value = str(self.values.get(field) or "").strip()
        if not value:
            if required:
                self.fail(field, f"请选择{label}")
            return ""
        if value not in choices.values:
            self.fail(field, f"{label}“{value}”不在可选范围内")
            return ""
        return value

    def integer(self, field: str, label: str, *, low: int, high: int, required: bool = True,
                unit: str = "") -> int | None:
        raw = self.values.get(field)
        if _blank(raw):
            if required:
                self.fail(field, f"请填写{label}")
            return None
        try:
            value = int(str(raw).strip())
        except ValueError:
            self.fail(field, f"{label}应为整数")
            return None
        if not low <= value <= high:
            self.fail(field, f"{label}应在 {low}–{high}{unit} 之间")
            return None
        return value

    def decimal(self, field: str, label: str, *, low: Decimal, high: Decimal, places: int = 2,
                required: bool = True, unit: str = "") -> Decimal | None:
        raw = self.values.get(field)
        if _blank(raw):
            if required:
                self.fail(field, f"请填写{label}")
            return None
        text = str(raw).strip().replace(",", "").replace("，", "")
        try:
            value = Decimal(text)
        except InvalidOperation:
            self.fail(field, f"{label}“{text}”应为数字")
            return None
        if not value.is_finite():
            self.fail(field, f"{label}“{text}”应为数字")
            return None
        exponent = value.normalize().as_tuple().exponent
        if isinstance(exponent, int) and -exponent > places:
            self.fail(field, f"{label}最多保留 {places} 位小数")
            return None
        if not low <= value <= high:
            self.fail(field, f"{label}应在 {low}–{high}{unit} 之间")
            return None
        return value.quantize(Decimal(1).scaleb(-places))

    def money(self, field: str, label: str, *, required: bool = True) -> Decimal | None:
        return self.decimal(field, label, low=Decimal(0), high=Decimal("9999999.99"), required=required, unit=" 元")

    def date(self, field: str, label: str, *, required: bool = True) -> dt.date | None:
        raw = self.values.get(field)
        if isinstance(raw, dt.date) and not isinstance(raw, dt.datetime):
            return raw
        if _blank(raw):
            if required:
                self.fail(field, f"请填写{label}")
            return None
        try:
            return dt.date.fromisoformat(str(raw).strip())
        except ValueError:
            self.fail(field, f"{label}应按 年-月-日 填写，如 2026-07-01")
            return None

    def time(self, field: str, label: str) -> dt.time | None:
        raw = self.values.get(field)
        if isinstance(raw, dt.time):
            return raw
        if _blank(raw):
            self.fail(field, f"请填写{label}")
            return None
        try:
            return dt.time.fromisoformat(str(raw).strip())
        except ValueError:
            self.fail(field, f"{label}应按 时:分 填写，如 08:30")
            return None

    def boolean(self, field: str, *, default: bool) -> bool:
        raw = self.values.get(field)
        if raw is None:
            return default
        if isinstance(raw, bool):
            return raw
        return str(raw).strip().lower() in ("1", "true", "on", "yes")

    def coordinates(self, lat_field: str, lon_field: str) -> tuple[Decimal | None, Decimal | None]:
        """A point inside China, in WGS-84 degrees with at most 6 decimals."""
        lat = self.decimal(lat_field, "纬度", low=LATITUDE_RANGE[0], high=LATITUDE_RANGE[1], places=6, unit="°（中国境内）")
        lon = self.decimal(lon_field, "经度", low=LONGITUDE_RANGE[0], high=LONGITUDE_RANGE[1], places=6,
                           unit="°（中国境内）")
        return lat, lon

    def lines(self, field: str, label: str, *, max_items: int, max_length: int) -> list[str]:
        """A list given as a JSON list or as text with one entry per line; blank lines dropped."""
        raw = self.values.get(field)
        if raw is None:
            return []
        items: Iterable[Any] = raw.splitlines() if isinstance(raw, str) else raw if isinstance(raw, list) else []
        if not isinstance(raw, str | list):
            self.fail(field, f"{label}应为列表")
        result = [str(x).strip() for x in items if str(x).strip()]
        if len(result) > max_items:
            self.fail(field, f"{label}最多 {max_items} 项")
        for entry in result:
            if len(entry) > max_length:
                self.fail(field, f"{label}每项不能超过 {max_length} 个字：“{entry[:20]}…”")
                break
        return result
