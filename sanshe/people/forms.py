"""Forms parse and type the input; the rules live in people.rules and people.actions."""

from __future__ import annotations

from typing import Any, cast

from django import forms

from sanshe.accounts.access import capability_scope
from sanshe.accounts.models import Capability, Region, RegionLevel
from sanshe.core.forms import PlatformForm
from sanshe.people.codes import (
    CHRONIC_CONDITIONS,
    EconomicStatus,
    LivingArrangement,
    PersonStatus,
    Sex,
)
from sanshe.people.models import SPECIAL_GROUP_FIELDS, Attachment, Contact, Person
from sanshe.people.queries import PersonFilter

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


def communities_for(user: Any, capability: Capability) -> Any:
    scope = capability_scope(user, capability)
    return Region.objects.filter(scope.region_q(), level=RegionLevel.COMMUNITY).select_related("parent")


class RegionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        parent = obj.parent.name if obj.parent else ""
        return f"{parent} · {obj.name}" if parent else obj.name


class PersonForm(PlatformForm, forms.ModelForm):
    id_number = forms.CharField(label="身份证号码", max_length=22, required=False,
                                help_text="18位（旧版15位会自动升级）；填写后出生日期和性别可留空")
    chronic_conditions = forms.MultipleChoiceField(
        label="慢性病", required=False, choices=[(c, c) for c in CHRONIC_CONDITIONS],
        widget=forms.CheckboxSelectMultiple,
    )
    reason = forms.CharField(label="修改原因", max_length=300, required=False,
                             help_text="将记入档案变更历史，例如“入户核实”“家属来电更正”")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Person
        fields = [
            "name", "id_number", "sex", "birth_date", "ethnicity", "phone",
            "residence_region", "address", "latitude", "longitude", "registered_region", "registered_address",
            "living_arrangement", "marital_status", "economic_status", "tekun_support_mode",
            "monthly_income", "monthly_medical_costs", *SPECIAL_GROUP_FIELDS,
            "disability_category", "disability_grade", "disability_certificate_no",
            "chronic_conditions", "allergies", "medications", "family_doctor_signed", "family_doctor", "notes",
        ]
        widgets = {"birth_date": DATE, "notes": forms.Textarea(attrs={"rows": 3})}
        field_classes = {"residence_region": RegionChoiceField}

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(forms.ModelChoiceField, self.fields["residence_region"]).queryset = communities_for(user, Capability.EDIT_PEOPLE)
        self.fields["residence_region"].label = "居住社区"
        cast(forms.ModelChoiceField, self.fields["registered_region"]).queryset = Region.objects.all()
        self.fields["registered_region"].required = False
        self.fields["sex"].required = False
        self.fields["birth_date"].required = False
        cast(forms.ChoiceField, self.fields["sex"]).choices = [("", "按身份证号自动识别"), (Sex.MALE, "男"), (Sex.FEMALE, "女")]
        self.fields["phone"].help_text = "手机11位，座机请带区号"
        self.localise_blank_choices()
        if self.instance.pk:
            self.fields["id_number"].help_text = "留空表示不修改；如需更正请填写完整号码"
            self.fields["reason"].required = True
            self.initial["version"] = self.instance.version

    def clean_phone(self) -> str:
        from sanshe.lib.phone import PhoneError, normalize_phone

        try:
            return normalize_phone(self.cleaned_data.get("phone") or "")
        except PhoneError as exc:
            raise forms.ValidationError(str(exc)) from None

    def values(self) -> dict[str, Any]:
        """The cleaned values for people.actions; an empty ID field on edit means unchanged."""
        data = {k: v for k, v in self.cleaned_data.items() if k not in ("reason", "version")}
        if data.get("chronic_conditions") is None:
            data["chronic_conditions"] = []
        data["chronic_conditions"] = list(data["chronic_conditions"])
        if self.instance.pk and not data.get("id_number"):
            data.pop("id_number", None)
        for field in ("tekun_support_mode", "disability_category", "disability_certificate_no"):
            data[field] = data.get(field) or ""
        return data


class StatusForm(forms.Form):
    to_status = forms.ChoiceField(label="新状态", choices=PersonStatus.choices)
    effective_date = forms.DateField(label="生效日期", widget=DATE)
    reason = forms.CharField(label="原因", max_length=300, help_text="例如：死亡证明已核实；迁往外省随子女居住")


class RevealForm(forms.Form):
    reason = forms.CharField(label="查看事由", max_length=300, min_length=2)


class ContactForm(PlatformForm, forms.ModelForm):
    class Meta:
        model = Contact
        fields = ["name", "relation", "phone", "address", "is_emergency_contact", "is_guardian", "may_confirm_services"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.localise_blank_choices()

    def clean_phone(self) -> str:
        from sanshe.lib.phone import PhoneError, normalize_phone

        try:
            phone = normalize_phone(self.cleaned_data.get("phone") or "")
        except PhoneError as exc:
            raise forms.ValidationError(str(exc)) from None
        if not phone:
            raise forms.ValidationError("请填写联系人电话")
        return phone


class AttachmentForm(PlatformForm, forms.ModelForm):
    class Meta:
        model = Attachment
        fields = ["kind", "file"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.localise_blank_choices()


AGE_BANDS = [
    ("", "全部年龄"), ("60-69", "60–69岁"), ("70-79", "70–79岁"), ("80-89", "80–89岁"),
    ("90-99", "90–99岁"), ("100-", "100岁及以上"), ("-59", "60岁以下"),
]


class PersonFilterForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, widget=forms.TextInput(attrs={
        "type": "search", "placeholder": "姓名、拼音首字母、身份证号或电话", "autocomplete": "off"}))
    region = forms.ModelChoiceField(label="区划", required=False, queryset=Region.objects.none(), empty_label="全部区划")
    age = forms.ChoiceField(label="年龄段", required=False, choices=AGE_BANDS)
    status = forms.ChoiceField(label="状态", required=False, choices=[("", "全部状态"), *PersonStatus.choices])
    living_arrangement = forms.ChoiceField(label="居住情况", required=False,
                                           choices=[("", "全部"), *LivingArrangement.choices])
    economic_status = forms.ChoiceField(label="经济状况", required=False,
                                        choices=[("", "全部"), *EconomicStatus.choices])
    special_group = forms.ChoiceField(label="特殊群体", required=False,
                                      choices=[("", "全部"), *SPECIAL_GROUP_FIELDS.items()])

    def __init__(self, *args: Any, user: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        scope = capability_scope(user, Capability.VIEW_PEOPLE)
        cast(forms.ModelChoiceField, self.fields["region"]).queryset = Region.objects.filter(scope.region_q()).exclude(
            level__in=[RegionLevel.PROVINCE, RegionLevel.CITY]
        )

    def to_filter(self) -> PersonFilter:
        if not self.is_valid():
            return PersonFilter()
        data = self.cleaned_data
        age_min = age_max = None
        if data["age"]:
            low, _, high = data["age"].partition("-")
            age_min = int(low) if low else None
            age_max = int(high) if high else None
        return PersonFilter(
            q=data["q"].strip(), region_id=data["region"].pk if data["region"] else None,
            age_min=age_min, age_max=age_max, status=data["status"],
            living_arrangement=data["living_arrangement"], economic_status=data["economic_status"],
            special_group=data["special_group"],
        )
