"""API for the person file: list and search, the file itself, edits, status, contacts,
attachments, history and the audited reveal of a full ID number.

Every endpoint parses its input with the same forms as the web pages and calls the same
access functions and actions, so the API and the web UI refuse and record the same things.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal
from typing import Any

from django.db.models import Choices
from django.forms import BaseForm
from django.http import FileResponse, Http404, HttpRequest
from django.utils import timezone
from ninja import Field, FileEx, FormEx, P, Query, QueryEx, Router, Schema, Status, UploadedFile
from ninja.errors import HttpError

from sanshe.accounts.actions import parse_region_code
from sanshe.accounts.api import require
from sanshe.accounts.models import Capability, Region
from sanshe.core.downloads import private_file_response
from sanshe.core.errors import UserError, ValidationFailed
from sanshe.lib.masking import mask_phone
from sanshe.people import actions
from sanshe.people.access import access_attachment, access_person, can_edit_person, can_reveal_id, visible_people
from sanshe.people.codes import (
    CHRONIC_CONDITIONS,
    ETHNICITY_CHOICES,
    AttachmentKind,
    DisabilityCategory,
    DisabilityGrade,
    EconomicStatus,
    LivingArrangement,
    MaritalStatus,
    PersonStatus,
    Relation,
    Sex,
    TekunSupportMode,
)
from sanshe.people.forms import AttachmentForm, ContactForm, PersonFilterForm, PersonForm, StatusForm
from sanshe.people.models import SPECIAL_GROUP_FIELDS, Attachment, Contact, Person, PersonChange, StatusChange
from sanshe.people.queries import PersonFilter, bounded_count, filter_people

router = Router(tags=["人员档案"])

MAX_PAGE = 200

# The API names region references by id, the forms by the model field name.
FORM_TO_API = {"residence_region": "residence_region_id", "registered_region": "registered_region_id"}
API_TO_FORM = {api: form for form, api in FORM_TO_API.items()}


def _codes(choices: type[Choices]) -> str:
    return "，".join(f"{value} {label}" for value, label in choices.choices)


# --- turning form and action errors into API errors -------------------------------------------


def _api_errors(errors: dict[str, list[str]]) -> dict[str, list[str]]:
    return {FORM_TO_API.get(field, field): list(messages) for field, messages in errors.items()}


def _check(form: BaseForm, *, only: set[str] | None = None) -> None:
    """Raise the form's errors as a 400, each message prefixed with the field's label.

    With `only`, errors on other fields are ignored: a partial update must not be refused
    because of a stored value the client did not send (the action still checks the whole file).
    """
    if form.is_valid():
        return
    errors: dict[str, list[str]] = {}
    for field, messages in form.errors.items():
        if only is not None and field in form.fields and field not in only:
            continue
        label = form.fields[field].label if field in form.fields else ""
        key = FORM_TO_API.get(field, field if field in form.fields else "请求")
        errors.setdefault(key, []).extend(f"{label}：{m}" if label else str(m) for m in messages)
    if errors:
        raise ValidationFailed(errors)


def _form_value(value: Any) -> Any:
    """A JSON value as a submitted form would carry it; null clears the field."""
    if value is None:
        return ""
    if isinstance(value, bool | list):
        return value
    return str(value)


# --- schemas -----------------------------------------------------------------------------------


class PersonFields(Schema):
    """Every field of a file a client may set. Omitted fields keep their value on an update
    and take the blank web form's default on creation."""

    name: str | None = Field(None, description="姓名（汉字、字母或间隔号“·”）", max_length=50)
    id_number: str | None = Field(
        None, description="身份证号码（18位，旧版15位自动升级）；填写后出生日期和性别可省略。修改时留空表示不修改"
    )
    sex: Sex | None = Field(None, description=f"性别（GB/T 2261.1）：{_codes(Sex)}；省略时按身份证号识别")
    birth_date: dt.date | None = Field(None, description="出生日期（YYYY-MM-DD）；须与身份证号一致")
    ethnicity: str | None = Field(
        None, description="民族代码（GB 3304，两位数字），如 " + "，".join(f"{c} {n}" for c, n in ETHNICITY_CHOICES[:3])
    )
    phone: str | None = Field(None, description="联系电话：手机11位，座机请带区号")
    residence_region_id: int | None = Field(None, description="居住社区的区划ID（须为社区/村一级且在您的辖区内）")
    address: str | None = Field(None, description="居住地址", max_length=200)
    latitude: Decimal | None = Field(None, description="纬度（与经度同时填写）")
    longitude: Decimal | None = Field(None, description="经度（与纬度同时填写）")
    registered_region_id: int | None = Field(None, description="户籍地区划ID")
    registered_address: str | None = Field(None, description="户籍地址", max_length=200)
    living_arrangement: LivingArrangement | None = Field(None, description=f"居住情况：{_codes(LivingArrangement)}")
    marital_status: MaritalStatus | None = Field(None, description=f"婚姻状况（GB/T 2261.2）：{_codes(MaritalStatus)}")
    economic_status: EconomicStatus | None = Field(None, description=f"经济状况：{_codes(EconomicStatus)}")
    tekun_support_mode: TekunSupportMode | None = Field(
        None, description=f"特困供养方式（仅特困供养人员）：{_codes(TekunSupportMode)}"
    )
    monthly_income: Decimal | None = Field(None, description="月收入（元，两位小数）")
    monthly_medical_costs: Decimal | None = Field(None, description="月医疗支出（元，两位小数）")
    entitled_group: bool | None = Field(None, description=SPECIAL_GROUP_FIELDS["entitled_group"])
    family_planning_special: bool | None = Field(None, description=SPECIAL_GROUP_FIELDS["family_planning_special"])
    model_worker: bool | None = Field(None, description=SPECIAL_GROUP_FIELDS["model_worker"])
    lost_only_child: bool | None = Field(None, description=SPECIAL_GROUP_FIELDS["lost_only_child"])
    empty_nest: bool | None = Field(None, description=SPECIAL_GROUP_FIELDS["empty_nest"])
    left_behind: bool | None = Field(None, description=SPECIAL_GROUP_FIELDS["left_behind"])
    lives_with_disabled_child: bool | None = Field(
        None, description=SPECIAL_GROUP_FIELDS["lives_with_disabled_child"]
    )
    disability_category: DisabilityCategory | None = Field(
        None, description=f"残疾类别（与残疾等级同时填写）：{_codes(DisabilityCategory)}"
    )
    disability_grade: DisabilityGrade | None = Field(None, description=f"残疾等级：{_codes(DisabilityGrade)}")
    disability_certificate_no: str | None = Field(None, description="残疾人证号")
    chronic_conditions: list[str] | None = Field(None, description="慢性病，可选：" + "、".join(CHRONIC_CONDITIONS))
    allergies: str | None = Field(None, description="过敏史")
    medications: str | None = Field(None, description="长期用药")
    family_doctor_signed: bool | None = Field(None, description="是否已签约家庭医生")
    family_doctor: str | None = Field(None, description="家庭医生/签约机构")
    notes: str | None = Field(None, description="备注")


class PersonIn(PersonFields):
    name: str = Field(..., description="姓名（汉字、字母或间隔号“·”）", max_length=50)
    residence_region_id: int = Field(..., description="居住社区的区划ID（须为社区/村一级且在您的辖区内）")
    address: str = Field(..., description="居住地址", max_length=200)


class PersonPatch(PersonFields):
    version: int = Field(..., description="读取档案时得到的版本号；档案已被他人修改时返回 409")
    reason: str = Field(..., description="修改原因，记入档案变更历史", max_length=300)


class ContactOut(Schema):
    id: int
    name: str = Field(..., description="姓名")
    relation: str = Field(..., description="关系代码")
    relation_label: str = Field(..., description="关系")
    phone: str = Field(..., description="电话")
    address: str = Field(..., description="地址")
    is_emergency_contact: bool = Field(..., description="紧急联系人")
    is_guardian: bool = Field(..., description="监护人")
    may_confirm_services: bool = Field(..., description="可确认服务")

    @staticmethod
    def resolve_relation_label(obj: Contact) -> str:
        return obj.get_relation_display()


class ContactIn(Schema):
    name: str = Field(..., description="联系人姓名", max_length=50)
    relation: Relation = Field(..., description=f"关系：{_codes(Relation)}")
    phone: str = Field(..., description="电话：手机11位，座机请带区号")
    address: str = Field("", description="地址", max_length=200)
    is_emergency_contact: bool = Field(False, description="紧急联系人")
    is_guardian: bool = Field(False, description="监护人")
    may_confirm_services: bool = Field(False, description="可确认服务")


class AttachmentOut(Schema):
    id: int
    kind: str = Field(..., description="类型代码")
    kind_label: str = Field(..., description="类型")
    original_name: str = Field(..., description="文件名")
    content_type: str
    size: int = Field(..., description="字节数")
    uploaded_at: dt.datetime = Field(..., description="上传时间")

    @staticmethod
    def resolve_kind_label(obj: Attachment) -> str:
        return obj.get_kind_display()


class PersonRow(Schema):
    """A line of the list: masked, as on the list page."""

    id: int
    file_number: str = Field(..., description="档案编号")
    name_masked: str = Field(..., description="姓名（脱敏）")
    id_number_masked: str = Field(..., description="身份证号（脱敏）")
    sex: str = Field(..., description="性别代码")
    sex_label: str = Field(..., description="性别")
    age: int = Field(..., description="年龄（周岁）")
    phone_masked: str = Field(..., description="电话（脱敏）")
    region_id: int = Field(..., description="居住社区ID")
    region: str = Field(..., description="居住社区")
    status: str = Field(..., description="状态代码")
    status_label: str = Field(..., description="状态")
    economic_status: str = Field(..., description="经济状况代码")
    economic_status_label: str = Field(..., description="经济状况")

    @staticmethod
    def resolve_name_masked(obj: Person) -> str:
        return obj.masked_name

    @staticmethod
    def resolve_sex_label(obj: Person) -> str:
        return obj.get_sex_display()

    @staticmethod
    def resolve_age(obj: Person) -> int:
        return obj.age()

    @staticmethod
    def resolve_phone_masked(obj: Person) -> str:
        return mask_phone(obj.phone) if obj.phone else ""

    @staticmethod
    def resolve_region_id(obj: Person) -> int:
        return obj.residence_region_id

    @staticmethod
    def resolve_region(obj: Person) -> str:
        return obj.residence_region.name

    @staticmethod
    def resolve_status_label(obj: Person) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_economic_status_label(obj: Person) -> str:
        return obj.get_economic_status_display()


class PersonPage(Schema):
    count: int = Field(..., description="符合条件的人数（超过上限时为上限）")
    count_capped: bool = Field(..., description="为 true 时实际人数多于 count")
    limit: int
    offset: int
    items: list[PersonRow]


class PersonOut(Schema):
    """The whole file, as the file page shows it: full name and phone, masked ID number."""

    id: int
    file_number: str = Field(..., description="档案编号")
    version: int = Field(..., description="版本号，修改时原样提交")
    name: str = Field(..., description="姓名")
    sex: str = Field(..., description="性别代码")
    sex_label: str = Field(..., description="性别")
    birth_date: dt.date = Field(..., description="出生日期")
    age: int = Field(..., description="年龄（周岁）")
    id_number_masked: str = Field(..., description="身份证号（脱敏）；完整号码须经 POST /people/{id}/reveal-id 说明事由后查看")
    ethnicity: str = Field(..., description="民族代码")
    ethnicity_label: str = Field(..., description="民族")
    phone: str = Field(..., description="联系电话")
    residence_region_id: int = Field(..., description="居住社区ID")
    residence_region: str = Field(..., description="居住社区")
    residence_region_code: str = Field(..., description="居住社区区划代码")
    address: str = Field(..., description="居住地址")
    latitude: Decimal | None = Field(None, description="纬度")
    longitude: Decimal | None = Field(None, description="经度")
    registered_region_id: int | None = Field(None, description="户籍地区划ID")
    registered_address: str = Field(..., description="户籍地址")
    living_arrangement: str = Field(..., description="居住情况代码")
    living_arrangement_label: str = Field(..., description="居住情况")
    marital_status: str = Field(..., description="婚姻状况代码")
    marital_status_label: str = Field(..., description="婚姻状况")
    economic_status: str = Field(..., description="经济状况代码")
    economic_status_label: str = Field(..., description="经济状况")
    tekun_support_mode: str = Field(..., description="特困供养方式代码")
    monthly_income: Decimal | None = Field(None, description="月收入（元）")
    monthly_medical_costs: Decimal | None = Field(None, description="月医疗支出（元）")
    entitled_group: bool
    family_planning_special: bool
    model_worker: bool
    lost_only_child: bool
    empty_nest: bool
    left_behind: bool
    lives_with_disabled_child: bool
    special_groups: list[str] = Field(..., description="特殊群体")
    disability_category: str = Field(..., description="残疾类别代码")
    disability_grade: int | None = Field(None, description="残疾等级")
    disability_certificate_no: str = Field(..., description="残疾人证号")
    chronic_conditions: list[str] = Field(..., description="慢性病")
    allergies: str = Field(..., description="过敏史")
    medications: str = Field(..., description="长期用药")
    family_doctor_signed: bool = Field(..., description="已签约家庭医生")
    family_doctor: str = Field(..., description="家庭医生/签约机构")
    status: str = Field(..., description="状态代码")
    status_label: str = Field(..., description="状态")
    status_since: dt.date | None = Field(None, description="状态生效日期")
    notes: str = Field(..., description="备注")
    created_at: dt.datetime = Field(..., description="建档时间")
    updated_at: dt.datetime = Field(..., description="更新时间")
    can_edit: bool = Field(..., description="当前账号能否修改该档案")
    can_reveal_id: bool = Field(..., description="当前账号能否查看完整身份证号")
    contacts: list[ContactOut] = Field(..., description="联系人与监护人")
    attachments: list[AttachmentOut] = Field(..., description="附件")

    @staticmethod
    def resolve_sex_label(obj: Person) -> str:
        return obj.get_sex_display()

    @staticmethod
    def resolve_age(obj: Person) -> int:
        return obj.age()

    @staticmethod
    def resolve_id_number_masked(obj: Person) -> str:
        return obj.id_number_masked

    @staticmethod
    def resolve_ethnicity_label(obj: Person) -> str:
        return obj.get_ethnicity_display()

    @staticmethod
    def resolve_residence_region(obj: Person) -> str:
        return obj.residence_region.name

    @staticmethod
    def resolve_residence_region_code(obj: Person) -> str:
        return obj.residence_region.code

    @staticmethod
    def resolve_living_arrangement_label(obj: Person) -> str:
        return obj.get_living_arrangement_display()

    @staticmethod
    def resolve_marital_status_label(obj: Person) -> str:
        return obj.get_marital_status_display()

    @staticmethod
    def resolve_economic_status_label(obj: Person) -> str:
        return obj.get_economic_status_display()

    @staticmethod
    def resolve_special_groups(obj: Person) -> list[str]:
        return obj.special_groups()

    @staticmethod
    def resolve_status_label(obj: Person) -> str:
        return obj.get_status_display()

    @staticmethod
    def resolve_can_edit(obj: Person, context: dict[str, Any]) -> bool:
        return can_edit_person(context["request"].user, obj)

    @staticmethod
    def resolve_can_reveal_id(obj: Person, context: dict[str, Any]) -> bool:
        return can_reveal_id(context["request"].user, obj) and bool(obj.id_number_cipher)

    @staticmethod
    def resolve_contacts(obj: Person) -> list[Contact]:
        return list(obj.contacts.all())

    @staticmethod
    def resolve_attachments(obj: Person) -> list[Attachment]:
        return list(obj.attachments.all())


class StatusIn(Schema):
    to_status: PersonStatus = Field(..., description=f"新状态：{_codes(PersonStatus)}")
    effective_date: dt.date = Field(..., description="生效日期（YYYY-MM-DD），不能晚于今天")
    reason: str = Field(..., description="原因，例如“死亡证明已核实”", max_length=300)


class StatusChangeOut(Schema):
    id: int
    from_status: str = Field(..., description="原状态代码")
    from_status_label: str = Field(..., description="原状态")
    to_status: str = Field(..., description="新状态代码")
    to_status_label: str = Field(..., description="新状态")
    effective_date: dt.date = Field(..., description="生效日期")
    reason: str = Field(..., description="原因")
    recorded_by: str = Field(..., description="登记人")
    recorded_at: dt.datetime = Field(..., description="登记时间")

    @staticmethod
    def resolve_from_status_label(obj: StatusChange) -> str:
        return obj.get_from_status_display()

    @staticmethod
    def resolve_to_status_label(obj: StatusChange) -> str:
        return obj.get_to_status_display()

    @staticmethod
    def resolve_recorded_by(obj: StatusChange) -> str:
        return obj.recorded_by.display_name if obj.recorded_by else ""


class FieldChange(Schema):
    field: str = Field(..., description="字段")
    label: str = Field(..., description="字段名称")
    old: Any = Field(None, description="原值")
    new: Any = Field(None, description="新值")


class PersonChangeOut(Schema):
    id: int
    at: dt.datetime = Field(..., description="时间")
    kind: str = Field(..., description="类型代码")
    kind_label: str = Field(..., description="类型")
    actor_name: str = Field(..., description="操作人")
    reason: str = Field(..., description="原因")
    changes: list[FieldChange] = Field(..., description="变更内容（身份证号只显示脱敏值）")

    @staticmethod
    def resolve_kind_label(obj: PersonChange) -> str:
        return obj.get_kind_display()

    @staticmethod
    def resolve_changes(obj: PersonChange) -> list[dict[str, Any]]:
        fields = list(obj.changes)
        return [
            {"field": field, "label": label, "old": old, "new": new}
            for field, (label, old, new) in zip(fields, obj.labelled_changes(), strict=True)
        ]


class HistoryOut(Schema):
    changes: list[PersonChangeOut] = Field(..., description="档案变更记录，最新的在前")
    status_changes: list[StatusChangeOut] = Field(..., description="状态变更，按生效日期倒序")


class RevealIn(Schema):
    reason: str = Field(..., description="查看事由（至少2个字），记入审计日志")


class RevealOut(Schema):
    id_number: str = Field(..., description="完整身份证号码")


# --- list and search ---------------------------------------------------------------------------


class PersonFilterQuery(Schema):
    q: str = Field("", description="姓名（前缀）、拼音首字母、完整身份证号或电话（完整或至少前4位）")
    region: str = Field("", description="区划代码（6、9或12位），只列出该区划内的人员")
    age_min: int | None = Field(None, ge=0, le=150, description="最小年龄（周岁，含）")
    age_max: int | None = Field(None, ge=0, le=150, description="最大年龄（周岁，含）")
    status: PersonStatus | None = Field(None, description=f"状态：{_codes(PersonStatus)}")
    living_arrangement: LivingArrangement | None = Field(None, description=f"居住情况：{_codes(LivingArrangement)}")
    economic_status: EconomicStatus | None = Field(None, description=f"经济状况：{_codes(EconomicStatus)}")
    special_group: str = Field(
        "", description="特殊群体：" + "，".join(f"{k} {v}" for k, v in SPECIAL_GROUP_FIELDS.items())
    )


class PersonQuery(PersonFilterQuery):
    limit: int = Field(20, ge=1, le=MAX_PAGE, description=f"每页条数（1–{MAX_PAGE}）")
    offset: int = Field(0, ge=0, description="跳过的条数")


def _region_pk(code: str) -> int:
    """The id of the region with this code; -1 (no such choice) when there is none."""
    try:
        full = parse_region_code(code)
    except UserError as exc:
        raise UserError(exc.message, field="region") from None
    return Region.objects.filter(code=full).values_list("pk", flat=True).first() or -1


@router.get("/people", response=PersonPage, summary="人员列表与搜索（姓名、身份证号等均脱敏）")
def list_people(request: HttpRequest, filters: Query[PersonQuery]) -> dict[str, Any]:
    require(request, Capability.VIEW_PEOPLE)
    person_filter = filter_from_query(request, filters)
    qs = filter_people(visible_people(request.user), person_filter, today=timezone.localdate())
    count, capped = bounded_count(qs)
    rows = list(
        qs.select_related("residence_region").order_by("id")[filters.offset : filters.offset + filters.limit]
    )
    return {"count": count, "count_capped": capped, "limit": filters.limit, "offset": filters.offset, "items": rows}


def filter_from_query(request: HttpRequest, filters: PersonFilterQuery) -> PersonFilter:
    """The list filter from API query parameters, checked by the web filter form (400 on bad values)."""
    data = {
        "q": filters.q,
        "region": _region_pk(filters.region) if filters.region.strip() else "",
        "status": filters.status or "",
        "living_arrangement": filters.living_arrangement or "",
        "economic_status": filters.economic_status or "",
        "special_group": filters.special_group,
    }
    form = PersonFilterForm(data, user=request.user)
    _check(form)
    return dataclasses.replace(form.to_filter(), age_min=filters.age_min, age_max=filters.age_max)


# --- the file ----------------------------------------------------------------------------------


def _person_form_data(payload: PersonFields, base: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """Form data: `base` overlaid with the fields the client sent; also the form names sent."""
    sent = payload.model_dump(mode="json", exclude_unset=True, exclude={"version", "reason"})
    data = {k: v for k, v in base.items() if v is not None}
    for api_name, value in sent.items():
        data[API_TO_FORM.get(api_name, api_name)] = _form_value(value)
    return data, {API_TO_FORM.get(name, name) for name in sent}


def _person_for_output(person_id: int) -> Person:
    return Person.objects.select_related("residence_region", "registered_region").get(pk=person_id)


@router.post("/people", response={201: PersonOut}, summary="新建档案（同一身份证号只能建一份档案）")
def create_person(request: HttpRequest, payload: PersonIn) -> Status[Person]:
    require(request, Capability.EDIT_PEOPLE)
    blank = PersonForm(user=request.user)
    # Omitted fields take the defaults the blank web form shows (民族 汉族, 经济状况 一般 …).
    defaults = {name: field.initial for name, field in blank.fields.items() if not callable(field.initial)}
    data, _ = _person_form_data(payload, defaults)
    form = PersonForm(data, user=request.user)
    _check(form)
    try:
        person = actions.create_person(values=form.values(), acting_user=request.user, request=request)
    except ValidationFailed as exc:
        raise ValidationFailed(_api_errors(exc.errors)) from None
    return Status(201, _person_for_output(person.pk))


@router.get("/people/{person_id}", response=PersonOut, summary="查看档案（记入审计日志）")
def get_person(request: HttpRequest, person_id: int) -> Person:
    person = access_person(request.user, person_id)
    actions.record_person_view(person, acting_user=request.user, request=request)
    return person


@router.patch(
    "/people/{person_id}", response=PersonOut,
    summary="修改档案（只改提交的字段；须带版本号和修改原因）",
    openapi_extra={"responses": {409: {"description": "档案已被他人修改，请重新读取后再改"}}},
)
def update_person(request: HttpRequest, person_id: int, payload: PersonPatch) -> Person:
    person = access_person(request.user, person_id, for_write=True)
    current = PersonForm(instance=person, user=request.user)
    data, sent = _person_form_data(payload, dict(current.initial))
    data.update(reason=payload.reason, version=payload.version)
    form = PersonForm(data, instance=person, user=request.user)
    _check(form, only=sent | {"reason", "version"})
    # Only what the client sent goes to the action, so a concurrent edit of another field is
    # never overwritten with the value read here (the version check refuses it anyway).
    values = {k: v for k, v in form.values().items() if k in sent}
    try:
        actions.update_person(
            Person.objects.get(pk=person.pk), values=values, acting_user=request.user,
            reason=form.cleaned_data["reason"], expected_version=payload.version, request=request,
        )
    except ValidationFailed as exc:
        raise ValidationFailed(_api_errors(exc.errors)) from None
    except UserError as exc:
        if exc.field == "version":
            raise HttpError(409, exc.message) from None
        raise
    return _person_for_output(person.pk)


@router.post("/people/{person_id}/status", response={201: StatusChangeOut},
             summary="变更状态（迁出、住院、入住机构、死亡等），须填生效日期和原因")
def change_status(request: HttpRequest, person_id: int, payload: StatusIn) -> Status[StatusChange]:
    person = access_person(request.user, person_id, for_write=True)
    form = StatusForm(payload.model_dump(mode="json"))
    _check(form)
    change = actions.change_status(person, acting_user=request.user, request=request, **form.cleaned_data)
    return Status(201, change)


@router.post("/people/{person_id}/reveal-id", response=RevealOut,
             summary="查看完整身份证号（须说明事由，记入审计日志）")
def reveal_id(request: HttpRequest, person_id: int, payload: RevealIn) -> dict[str, str]:
    person = access_person(request.user, person_id)
    number = actions.reveal_id_number(person, acting_user=request.user, reason=payload.reason, request=request)
    return {"id_number": number}


@router.get("/people/{person_id}/history", response=HistoryOut, summary="变更历史与状态变更（记入审计日志）")
def person_history(
    request: HttpRequest, person_id: int, limit: QueryEx[int, P(ge=1, le=MAX_PAGE, description="每类最多条数")] = 50
) -> dict[str, Any]:
    person = access_person(request.user, person_id)
    actions.record_person_view(person, acting_user=request.user, request=request)
    return {
        "changes": list(person.changes.all()[:limit]),
        "status_changes": list(person.status_changes.select_related("recorded_by")[:limit]),
    }


# --- contacts ----------------------------------------------------------------------------------


@router.get("/people/{person_id}/contacts", response=list[ContactOut], summary="联系人与监护人（记入审计日志）")
def list_contacts(request: HttpRequest, person_id: int) -> list[Contact]:
    person = access_person(request.user, person_id)
    actions.record_person_view(person, acting_user=request.user, request=request)
    return list(person.contacts.all())


@router.post("/people/{person_id}/contacts", response={201: ContactOut}, summary="添加联系人")
def add_contact(request: HttpRequest, person_id: int, payload: ContactIn) -> Status[Contact]:
    person = access_person(request.user, person_id, for_write=True)
    form = ContactForm(payload.model_dump(mode="json"))
    _check(form)
    return Status(201, actions.add_contact(person, values=form.cleaned_data, acting_user=request.user))


@router.delete("/people/{person_id}/contacts/{contact_id}", response={204: None}, summary="删除联系人")
def remove_contact(request: HttpRequest, person_id: int, contact_id: int) -> Status[None]:
    person = access_person(request.user, person_id, for_write=True)
    contact = person.contacts.filter(pk=contact_id).first()
    if contact is None:
        raise Http404("没有找到该联系人")
    actions.remove_contact(contact, acting_user=request.user)
    return Status(204, None)


# --- attachments -------------------------------------------------------------------------------


@router.get("/people/{person_id}/attachments", response=list[AttachmentOut], summary="附件列表（记入审计日志）")
def list_attachments(request: HttpRequest, person_id: int) -> list[Attachment]:
    person = access_person(request.user, person_id)
    actions.record_person_view(person, acting_user=request.user, request=request)
    return list(person.attachments.all())


@router.get(
    "/people/{person_id}/attachments/{attachment_id}", summary="下载附件（记入审计日志）",
    openapi_extra={"responses": {200: {"description": "附件文件", "content": {
        "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}}},
)
def download_attachment(request: HttpRequest, person_id: int, attachment_id: int) -> FileResponse:
    person = access_person(request.user, person_id)
    attachment = access_attachment(request.user, person, attachment_id)
    actions.record_attachment_view(attachment, acting_user=request.user, request=request)
    return private_file_response(attachment.file, content_type=attachment.content_type,
                                 filename=attachment.original_name)


@router.post("/people/{person_id}/attachments", response={201: AttachmentOut},
             summary="上传附件（PDF、JPG、PNG、WEBP，不超过 10 MB；multipart/form-data）")
def upload_attachment(
    request: HttpRequest,
    person_id: int,
    kind: FormEx[AttachmentKind, P(description=f"附件类型：{_codes(AttachmentKind)}")],
    file: FileEx[UploadedFile, P(description="PDF 或图片文件，不超过 10 MB")],
) -> Status[Attachment]:
    person = access_person(request.user, person_id, for_write=True)
    form = AttachmentForm({"kind": kind}, {"file": file})
    _check(form)
    attachment = actions.add_attachment(person, kind=form.cleaned_data["kind"], upload=form.cleaned_data["file"],
                                        acting_user=request.user)
    return Status(201, attachment)
