"""Forms of the catalogue's pages. They only render the fields and carry the values back: every
check is in the actions (sanshe.catalog.actions), so the page and the API give the same messages;
the action's field errors are attached to the form with `attach_errors`."""

from __future__ import annotations

from typing import Any

from django import forms
from django.forms.utils import ErrorDict

from sanshe.catalog.actions.settings import SETTING_RANGES
from sanshe.catalog.actions.staff import WEEKDAYS
from sanshe.catalog.models import (
    FacilityKind,
    LicenceKind,
    Qualification,
    ServiceCategory,
    TravelMode,
    Unit,
)
from sanshe.core.errors import ValidationFailed

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
DECIMAL = forms.TextInput(attrs={"inputmode": "decimal"})
NUMBER = forms.TextInput(attrs={"inputmode": "numeric"})


def _choices(choices: list[tuple[str, str]], blank: str = "请选择") -> list[tuple[str, str]]:
    return [("", blank), *choices]


def set_choices(form: forms.Form, name: str, choices: list[tuple[str, str]]) -> None:
    field = form.fields[name]
    if isinstance(field, forms.ChoiceField):
        field.choices = choices


class ActionForm(forms.Form):
    """A form whose values are checked by an action, not by Django's field cleaning."""

    def full_clean(self) -> None:
        self._errors = ErrorDict()
        self.cleaned_data = {}

    def values(self) -> dict[str, Any]:
        """The submitted values, a list for multiple-choice fields."""
        data: dict[str, Any] = {}
        for name, field in self.fields.items():
            key = self.add_prefix(name)
            if isinstance(field, forms.MultipleChoiceField):
                data[name] = self.data.getlist(key) if hasattr(self.data, "getlist") else self.data.get(key, [])
            elif isinstance(field, forms.BooleanField):
                data[name] = key in self.data
            else:
                data[name] = self.data.get(key, "")
        return data


def attach_errors(form: forms.Form, exc: ValidationFailed) -> None:
    """Put an action's field errors on the form's fields (others above the form)."""
    for field, messages in exc.errors.items():
        name = field.split(".")[0]
        for message in messages:
            form.add_error(name if name in form.fields else None, message)


class ItemForm(ActionForm):
    code = forms.CharField(label="编码", help_text="英文字母、数字、下划线或短横线，如 MEAL01；创建后不能修改")
    name = forms.CharField(label="名称", help_text="如：助餐送餐、上门助浴")
    category = forms.ChoiceField(label="类别", choices=_choices(ServiceCategory.choices))
    unit = forms.ChoiceField(label="计量单位", choices=_choices(Unit.choices))
    standard_minutes = forms.CharField(label="标准时长（分钟）", widget=NUMBER, help_text="1–600 分钟；用于派单排程和时长核查")
    required_qualification = forms.ChoiceField(label="所需资质", required=False,
                                               choices=_choices(Qualification.choices, "不限"),
                                               help_text="须持有该资质（且在有效期内）的护理员才能派单")
    tasks = forms.CharField(label="服务内容（清单）", required=False, widget=forms.Textarea(attrs={"rows": 5}),
                            help_text="每行一项，按上门服务的顺序；护理员在手机上逐项勾选")
    description = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["code"]


class PriceListForm(ActionForm):
    name = forms.CharField(label="名称", help_text="如：2026年下半年居家养老服务价格")
    legal_basis = forms.CharField(label="依据（文号）", required=False, help_text="如：青发改价〔2026〕8号")
    effective_from = forms.DateField(label="生效日期", widget=DATE, help_text="须晚于今天；同一天只能有一个价格表")


class LicenceForm(ActionForm):
    kind = forms.ChoiceField(label="证照类型", choices=_choices(LicenceKind.choices))
    number = forms.CharField(label="证号")
    issued_on = forms.DateField(label="发证日期", required=False, widget=DATE)
    expires_on = forms.DateField(label="有效期至", required=False, widget=DATE, help_text="长期有效的留空")


class FacilityForm(ActionForm):
    kind = forms.ChoiceField(label="类型", choices=_choices(FacilityKind.choices))
    name = forms.CharField(label="名称")
    region = forms.ChoiceField(label="所在社区（村）")
    address = forms.CharField(label="地址")
    latitude = forms.CharField(label="纬度", widget=DECIMAL, help_text="WGS-84 坐标，如 30.250000")
    longitude = forms.CharField(label="经度", widget=DECIMAL, help_text="WGS-84 坐标，如 120.150000")
    opening_hours = forms.CharField(label="开放时间", required=False, help_text="如：周一至周五 8:00-17:00")

    def __init__(self, *args: Any, communities: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "region", _choices(communities))


class CaregiverForm(ActionForm):
    name = forms.CharField(label="姓名")
    phone = forms.CharField(label="手机号")
    station_id = forms.ChoiceField(label="所属服务站", required=False)
    home_address = forms.CharField(label="出发地址", required=False, help_text="每天出发的地点，如家庭住址")
    home_latitude = forms.CharField(label="出发地纬度", widget=DECIMAL)
    home_longitude = forms.CharField(label="出发地经度", widget=DECIMAL)
    travel_mode = forms.ChoiceField(label="出行方式", choices=_choices(TravelMode.choices))
    work_days = forms.MultipleChoiceField(label="工作日", choices=list(WEEKDAYS.items()),
                                          widget=forms.CheckboxSelectMultiple)
    shift_start = forms.CharField(label="上班时间", widget=forms.TimeInput(attrs={"type": "time"}))
    shift_end = forms.CharField(label="下班时间", widget=forms.TimeInput(attrs={"type": "time"}))
    break_minutes = forms.CharField(label="午休（分钟）", widget=NUMBER)
    insurance_policy_no = forms.CharField(label="意外/责任险保单号", required=False)
    insurance_expires_on = forms.DateField(label="保险有效期至", required=False, widget=DATE)
    username = forms.CharField(label="登录账号", required=False,
                               help_text="护理员用于手机签到的账号用户名（须为本机构护理员）；没有账号的留空")

    def __init__(self, *args: Any, stations: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        set_choices(self, "station_id", _choices(stations, "无"))


class QualificationForm(ActionForm):
    qualification = forms.ChoiceField(label="资质", choices=_choices(Qualification.choices))
    certificate_no = forms.CharField(label="证书编号")
    issued_on = forms.DateField(label="发证日期", required=False, widget=DATE)
    expires_on = forms.DateField(label="有效期至", required=False, widget=DATE, help_text="长期有效的留空")

    def __init__(self, *args: Any, editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["qualification"]


class SettingsForm(ActionForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, (label, low, high, unit) in SETTING_RANGES.items():
            self.fields[name] = forms.CharField(label=f"{label}（{unit.strip() or '倍'}）", widget=DECIMAL,
                                                help_text=f"{low}–{high}")
