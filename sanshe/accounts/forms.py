from __future__ import annotations

from typing import Any, cast

from django import forms

from sanshe.accounts.access import visible_organizations
from sanshe.accounts.models import Organization, OrganizationKind, Region, Role
from sanshe.core.models import AuditAction


class LoginForm(forms.Form):
    login = forms.CharField(label="用户名或手机号", max_length=150,
                            widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}))
    password = forms.CharField(label="密码", widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class TotpForm(forms.Form):
    code = forms.CharField(label="6位动态验证码", max_length=8, widget=forms.TextInput(
        attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "autofocus": True}))


class RegionForm(forms.Form):
    code = forms.CharField(label="区划代码", max_length=12, help_text="12位统计用区划代码，如 330199001001")
    name = forms.CharField(label="名称", max_length=100)


class RegionImportForm(forms.Form):
    file = forms.FileField(label="区划表（.xlsx）", help_text="第一行为表头，A 列区划代码，B 列名称；上级须已存在或在同一文件中")


class OrganizationForm(forms.Form):
    name = forms.CharField(label="组织名称", max_length=200)
    kind = forms.ChoiceField(label="类型", choices=OrganizationKind.choices)
    region = forms.ModelChoiceField(label="所在区划", queryset=Region.objects.none())
    contact_phone = forms.CharField(label="联系电话", max_length=20, required=False)
    address = forms.CharField(label="地址", max_length=200, required=False)

    def __init__(self, *args: Any, regions: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["region"]).queryset = regions


class UserForm(forms.Form):
    username = forms.CharField(label="用户名", max_length=150)
    full_name = forms.CharField(label="姓名", max_length=50)
    mobile = forms.CharField(label="手机号", max_length=20, required=False)
    password = forms.CharField(label="初始密码", widget=forms.PasswordInput, help_text="至少10位，不能是纯数字或常见密码")
    organization = forms.ModelChoiceField(label="所属组织", queryset=Organization.objects.none())
    role = forms.ChoiceField(label="角色", choices=Role.choices)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["organization"]).queryset = visible_organizations(user)


class MembershipForm(forms.Form):
    organization = forms.ModelChoiceField(label="组织", queryset=Organization.objects.none())
    role = forms.ChoiceField(label="角色", choices=Role.choices)

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["organization"]).queryset = visible_organizations(user)


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label="操作人", required=False)
    action = forms.ChoiceField(label="操作", required=False, choices=[("", "全部操作"), *AuditAction.choices])
    person_id = forms.IntegerField(label="档案ID", required=False, min_value=1)
    date_from = forms.DateField(label="起始日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    date_to = forms.DateField(label="截止日期", required=False, widget=forms.DateInput(attrs={"type": "date"}))
