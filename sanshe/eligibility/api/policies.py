"""API: a district's funds and policies — create, change, versions of conditions and amounts, put in
force or retire — and the fields a condition may test. The same checks and messages as the pages
(sanshe.eligibility.authoring)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from sanshe.accounts.models import Region
from sanshe.core.errors import UserError
from sanshe.eligibility import access, authoring
from sanshe.eligibility.models import Fund, Policy, PolicyStatus, PolicyVersion, Proration

router = Router(tags=["政策维护"])


class FundIn(Schema):
    code: str = Field(description="资金编码：小写英文字母、数字和下划线")
    name: str = Field(description="资金名称，如 福利彩票公益金")
    district_code: str = Field("", description="区县区划代码；只维护一个区县时可不填")


class FundOut(Schema):
    id: int
    district_code: str
    code: str
    name: str


class PolicyIn(Schema):
    code: str = Field(description="政策编码：小写英文字母、数字和下划线，区内唯一，创建后不能修改")
    name: str
    legal_basis: str = Field(description="政策依据（文号）")
    fund_id: int = Field(description="资金来源（本区的资金）")
    benefit_kind: str = Field(description="待遇类型：monthly_quota 每月服务额度、annual_voucher 年度服务券、"
                                          "monthly_subsidy 每月补贴、one_off_grant 一次性补助、"
                                          "per_service 按次（餐）补贴、co_payment_tier 服务收费档次")
    exclusivity_group: str = Field("", description="互斥组：同组政策一人只享受金额最高的一项（就高不就低）")
    excludes: list[str] = Field([], description="不与之同时享受的本区政策编码")
    proactive: bool = Field(True, description="免申即享：每月自动计算；false 时仅向申请获准的人发放")
    district_code: str = Field("", description="区县区划代码；只维护一个区县时可不填")


class PolicyPatch(Schema):
    name: str | None = None
    legal_basis: str | None = None
    fund_id: int | None = None
    benefit_kind: str | None = Field(None, description="已有版本的政策不能更改")
    exclusivity_group: str | None = None
    excludes: list[str] | None = None
    proactive: bool | None = None


class VersionIn(Schema):
    effective_from: dt.date = Field(description="生效日期；须晚于已有版本的生效日期")
    amount: Decimal = Field(description="金额（元，最多两位小数）；服务收费档次填 0")
    condition: Any = Field(description='条件树：{"all": [...]} / {"any": [...]} / {"not": 条件} / '
                                       '{"field": "age", "op": "gte", "value": 80}；可用条件项见 GET /policies/fields')
    parameters: dict[str, Any] = Field({}, description='按次补贴：{"unit": "meal|visit|hour", "monthly_cap": 30}；'
                                                       '服务收费档次：{"tier": "free|low_cost|paid", '
                                                       '"co_payment_rate": "0.3"}；其他类型为空')
    proration: str = Field(Proration.NONE, description="月中变化：none 按整月、daily 按天折算")
    note: str = ""


class StatusIn(Schema):
    status: str = Field(description="active 发布施行（须已有版本）或 retired 废止（不能恢复）")


class VersionOut(Schema):
    id: int
    number: int
    effective_from: dt.date
    effective_to: dt.date | None
    amount: Decimal
    parameters: dict[str, Any]
    proration: str
    note: str
    condition: Any
    condition_text: str = Field(description="条件的文字表述")
    benefit_text: str = Field(description="待遇标准的文字表述")
    created_by: str
    created_at: dt.datetime


class PolicyOut(Schema):
    id: int
    district_code: str
    code: str
    name: str
    legal_basis: str
    fund_id: int
    fund: str
    benefit_kind: str
    benefit_kind_label: str
    exclusivity_group: str
    excludes: list[str]
    proactive: bool
    status: str
    status_label: str
    current_version: VersionOut | None = Field(description="今天施行的版本；尚未生效时为 null")
    created_by: str
    created_at: dt.datetime


class PolicyDetailOut(PolicyOut):
    versions: list[VersionOut] = Field(description="全部版本，新的在前")


class OpOut(Schema):
    op: str
    label: str
    text: str


class ChoiceOut(Schema):
    value: str
    label: str


class FieldSpecOut(Schema):
    key: str
    label: str
    kind: str = Field(description="number 数值、money 金额、choice 选项、bool 是否、region 区划")
    unit: str
    ops: list[OpOut]
    choices: list[ChoiceOut]


def _version_out(policy: Policy, v: PolicyVersion, regions: dict[str, str] | None = None) -> dict[str, Any]:
    return {"id": v.pk, "number": v.number, "effective_from": v.effective_from, "effective_to": v.effective_to,
            "amount": v.amount, "parameters": v.parameters, "proration": v.proration, "note": v.note,
            "condition": v.condition, "condition_text": authoring.describe_condition(v.condition, regions=regions),
            "benefit_text": authoring.benefit_text(policy, v), "created_by": v.created_by.display_name,
            "created_at": v.created_at}


def _policy_out(policy: Policy, versions: list[PolicyVersion], *, detail: bool = False) -> dict[str, Any]:
    regions = dict(Region.objects.filter(code__startswith=policy.district.prefix).values_list("code", "name"))
    current = authoring.version_in_force(versions, timezone.localdate())
    data: dict[str, Any] = {
        "id": policy.pk, "district_code": policy.district.code, "code": policy.code, "name": policy.name,
        "legal_basis": policy.legal_basis, "fund_id": policy.fund_id, "fund": policy.fund.name,
        "benefit_kind": policy.benefit_kind, "benefit_kind_label": policy.get_benefit_kind_display(),
        "exclusivity_group": policy.exclusivity_group, "excludes": list(policy.excludes),
        "proactive": policy.proactive, "status": policy.status, "status_label": policy.get_status_display(),
        "current_version": _version_out(policy, current, regions) if current else None,
        "created_by": policy.created_by.display_name, "created_at": policy.created_at,
    }
    if detail:
        data["versions"] = [_version_out(policy, v, regions)
                            for v in sorted(versions, key=lambda v: v.effective_from, reverse=True)]
    return data


def _versions(policy: Policy) -> list[PolicyVersion]:
    return list(policy.versions.select_related("created_by"))


def _district(request: HttpRequest, district_code: str) -> Region:
    """The district the user writes policies for: the one given, or their only one."""
    districts = list(access.managed_districts(request.user))
    if not districts:
        raise PermissionDenied("您没有维护补贴政策的权限")
    if district_code:
        found = next((d for d in districts if d.code == district_code.ljust(12, "0")), None)
        if found is None:
            raise Http404("没有找到该区县")
        return found
    if len(districts) > 1:
        raise UserError("请提供区县的区划代码", field="district_code")
    return districts[0]


def _fund(fund_id: int) -> Fund:
    fund = Fund.objects.filter(pk=fund_id).first()
    if fund is None:
        raise UserError(f"没有编号为 {fund_id} 的资金", field="fund_id")
    return fund


def _require_read(request: HttpRequest) -> None:
    if not access.can_read_policies(request.user):
        raise PermissionDenied("您没有查看补贴政策的权限")


# --- fields ----------------------------------------------------------------------------------------


@router.get("/policies/fields", response=list[FieldSpecOut], summary="条件可用的条件项、比较方式和取值")
def condition_fields(request: HttpRequest) -> list[dict[str, Any]]:
    _require_read(request)
    return authoring.field_specs()


# --- funds -----------------------------------------------------------------------------------------


@router.get("/funds", response=list[FundOut], summary="本区的资金来源")
def list_funds(request: HttpRequest) -> list[dict[str, Any]]:
    _require_read(request)
    funds = access.visible_funds(request.user).select_related("district").order_by("district__code", "code")
    return [{"id": f.pk, "district_code": f.district.code, "code": f.code, "name": f.name} for f in funds]


@router.post("/funds", response={201: FundOut}, summary="新建资金来源（区民政）")
def create_fund(request: HttpRequest, payload: FundIn) -> Status:
    district = _district(request, payload.district_code)
    fund = authoring.create_fund(district, code=payload.code, name=payload.name, acting_user=request.user,
                                 request=request)
    return Status(201, {"id": fund.pk, "district_code": district.code, "code": fund.code, "name": fund.name})


# --- policies --------------------------------------------------------------------------------------


@router.get("/policies", response=list[PolicyOut], summary="补贴政策及今天施行的版本")
def list_policies(request: HttpRequest, status: str = "") -> list[dict[str, Any]]:
    _require_read(request)
    qs = access.visible_policies(request.user).select_related("district", "fund", "created_by").order_by(
        "district__code", "code")
    if status:
        if status not in PolicyStatus.values:
            raise UserError(f"status 应为 {'、'.join(PolicyStatus.values)}", field="status")
        qs = qs.filter(status=status)
    policies = list(qs)
    versions: dict[int, list[PolicyVersion]] = {p.pk: [] for p in policies}
    for v in PolicyVersion.objects.filter(policy__in=policies).select_related("created_by"):
        versions[v.policy_id].append(v)
    return [_policy_out(p, versions[p.pk]) for p in policies]


@router.post("/policies", response={201: PolicyDetailOut}, summary="新建政策（草稿；区民政）")
def create_policy(request: HttpRequest, payload: PolicyIn) -> Status:
    district = _district(request, payload.district_code)
    values = authoring.PolicyValues(
        name=payload.name, legal_basis=payload.legal_basis, fund=_fund(payload.fund_id),
        benefit_kind=payload.benefit_kind, exclusivity_group=payload.exclusivity_group, excludes=payload.excludes,
        proactive=payload.proactive)
    policy = authoring.create_policy(district, code=payload.code, values=values, acting_user=request.user,
                                     request=request)
    return Status(201, _policy_out(policy, [], detail=True))


@router.get("/policies/{int:policy_id}", response=PolicyDetailOut, summary="政策详情及全部版本")
def get_policy(request: HttpRequest, policy_id: int) -> dict[str, Any]:
    policy = access.access_policy(request.user, policy_id)
    return _policy_out(policy, _versions(policy), detail=True)


@router.patch("/policies/{int:policy_id}", response=PolicyDetailOut, summary="修改政策信息（区民政）")
def update_policy(request: HttpRequest, policy_id: int, payload: PolicyPatch) -> dict[str, Any]:
    policy = access.access_policy(request.user, policy_id, for_write=True)
    given = {k: v for k, v in payload.dict(exclude_unset=True).items() if v is not None}
    values = authoring.PolicyValues(
        name=str(given.get("name", policy.name)), legal_basis=str(given.get("legal_basis", policy.legal_basis)),
        fund=_fund(given["fund_id"]) if "fund_id" in given else policy.fund,
        benefit_kind=str(given.get("benefit_kind", policy.benefit_kind)),
        exclusivity_group=str(given.get("exclusivity_group", policy.exclusivity_group)),
        excludes=given.get("excludes", list(policy.excludes)), proactive=bool(given.get("proactive", policy.proactive)),
    )
    updated = authoring.update_policy(policy, values=values, acting_user=request.user, request=request)
    return _policy_out(updated, _versions(updated), detail=True)


@router.post("/policies/{int:policy_id}/versions", response={201: VersionOut},
             summary="新增版本：条件、金额和参数自生效日期起适用，上一版本于前一日失效（区民政）")
def add_version(request: HttpRequest, policy_id: int, payload: VersionIn) -> Status:
    policy = access.access_policy(request.user, policy_id, for_write=True)
    version = authoring.add_version(policy, effective_from=payload.effective_from, condition=payload.condition,
                                    amount=payload.amount, acting_user=request.user, note=payload.note,
                                    parameters=payload.parameters, proration=payload.proration, request=request)
    return Status(201, _version_out(policy, version))


@router.post("/policies/{int:policy_id}/status", response=PolicyDetailOut,
             summary="发布施行（须已有版本）或废止（不能恢复）（区民政）")
def set_status(request: HttpRequest, policy_id: int, payload: StatusIn) -> dict[str, Any]:
    policy = access.access_policy(request.user, policy_id, for_write=True)
    updated = authoring.set_status(policy, payload.status, acting_user=request.user, request=request)
    return _policy_out(updated, _versions(updated), detail=True)
