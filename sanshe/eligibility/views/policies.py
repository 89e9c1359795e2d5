"""Policy pages: the district's policies, one policy with all its versions, the forms to create and
edit a policy and to add a version (with the condition builder), putting a policy in force or
retiring it, and the district's funds."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from sanshe.accounts.http import AuthedRequest
from sanshe.accounts.models import Region
from sanshe.core.errors import UserError
from sanshe.core.forms import PlatformForm
from sanshe.eligibility import access, authoring
from sanshe.eligibility.benefits import TIERS, UNITS, describe
from sanshe.eligibility.models import BenefitKind, Fund, Policy, PolicyStatus, PolicyVersion, Proration

STATUS_BADGES = {PolicyStatus.DRAFT: "badge-amber", PolicyStatus.ACTIVE: "badge-green", PolicyStatus.RETIRED: ""}
KIND_HELP = {
    BenefitKind.MONTHLY_QUOTA: "每月可用于购买服务的额度，金额为每月元数",
    BenefitKind.ANNUAL_VOUCHER: "每年发放一次的服务券，金额为全年面值",
    BenefitKind.MONTHLY_SUBSIDY: "每月发放的补贴，金额为每月元数",
    BenefitKind.ONE_OFF_GRANT: "每人只享受一次的补助（如建床补贴），金额为最高额",
    BenefitKind.PER_SERVICE: "按实际服务次数（餐、次、小时）补贴，金额为每次补贴元数，可设每月上限",
    BenefitKind.CO_PAYMENT_TIER: "确定服务收费档次（免费、低偿、有偿），不发放金额",
}


# --- forms --------------------------------------------------------------------------------------------


class AnyMultipleChoiceField(forms.MultipleChoiceField):
    """The choices are checked by authoring (the same message for the page and the API)."""

    def valid_value(self, value: Any) -> bool:
        return True


class PolicyForm(PlatformForm, forms.Form):
    # Every check is in authoring.create_policy / update_policy, so the page and the API agree.
    district = forms.CharField(label="区县", required=False, widget=forms.Select)
    code = forms.CharField(label="政策编码", error_messages={"required": "请填写政策编码"},
                           help_text="小写英文字母、数字和下划线，如 home_care_aged_80；创建后不能修改")
    name = forms.CharField(label="政策名称", error_messages={"required": "请填写政策名称"}, help_text="如：居家养老服务补贴（四）80岁以上")
    legal_basis = forms.CharField(label="政策依据（文号）", error_messages={"required": "请填写政策依据（文号）"},
                                  help_text="如：青民〔2026〕12号")
    fund = forms.CharField(label="资金来源", error_messages={"required": "请选择资金来源"}, widget=forms.Select)
    benefit_kind = forms.CharField(label="待遇类型", error_messages={"required": "请选择待遇类型"}, widget=forms.Select(
        choices=[("", "请选择"), *BenefitKind.choices]))
    exclusivity_group = forms.CharField(
        label="互斥组（就高不就低）", required=False,
        help_text="同一互斥组的政策，一人只享受金额最高的一项；不与其他政策互斥的留空",
        widget=forms.TextInput(attrs={"list": "exclusivity-groups", "autocomplete": "off"}))
    excludes = AnyMultipleChoiceField(label="不与以下待遇同时享受", required=False,
                                      widget=forms.CheckboxSelectMultiple,
                                      help_text="已享受所选待遇的人，不享受本政策（如已享受残疾人护理补贴的，不再享受家庭养老床位护理补贴）")
    proactive = forms.BooleanField(label="免申即享（每月自动为符合条件的人计算，无需申请）", required=False)

    def __init__(self, *args: Any, districts: list[Region], district: Region, policy: Policy | None = None,
                 **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["district"].widget.choices = [(d.pk, d.name) for d in districts]
        # The funds and policies offered are the chosen district's: choosing another reloads them.
        self.fields["district"].widget.attrs["onchange"] = "location.search = 'district=' + this.value"
        funds = Fund.objects.filter(district=district).order_by("code")
        self.fields["fund"].widget.choices = [
            ("", "请选择"), *[(f.pk, f"{f.name}（{f.code}）") for f in funds]]
        others = Policy.objects.filter(district=district).order_by("code")
        if policy is not None:
            others = others.exclude(pk=policy.pk)
            del self.fields["code"]
            del self.fields["district"]
            if policy.versions.exists():
                self.fields["benefit_kind"].disabled = True
                self.fields["benefit_kind"].help_text = "已有版本，待遇类型不能更改；如需改变，请新建政策"
        elif len(districts) < 2:
            del self.fields["district"]
        self.fields["excludes"].choices = [(p.code, f"{p.name}（{p.code}）") for p in others]


class VersionForm(forms.Form):
    effective_from = forms.DateField(label="生效日期", widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
                                     error_messages={"required": "请填写生效日期",
                                                     "invalid": "生效日期应按 年-月-日 填写，如 2027-01-01"},
                                     help_text="当月1日起生效的版本适用全月；月中生效的，自次月起按新版本计算")
    amount = forms.CharField(label="金额（元）", error_messages={"required": "请填写金额"}, widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    unit = forms.CharField(label="计量单位", required=False, widget=forms.Select(
        choices=[("", "请选择"), *[(k, f"每{v}") for k, v in UNITS.items()]]))
    monthly_cap = forms.CharField(label="每月补贴次数上限", required=False, help_text="不限次数的留空",
                                  widget=forms.TextInput(attrs={"inputmode": "numeric"}))
    tier = forms.CharField(label="收费档次", required=False, widget=forms.Select(
        choices=[("", "请选择"), *TIERS.items()]))
    co_payment_rate = forms.CharField(label="自付比例", required=False, help_text="低偿服务填写，如 0.3 表示本人自付三成",
                                      widget=forms.TextInput(attrs={"inputmode": "decimal"}))
    proration = forms.CharField(label="月中变化", required=False,
                                widget=forms.RadioSelect(choices=Proration.choices))
    note = forms.CharField(label="说明", required=False, widget=forms.Textarea(attrs={"rows": 2}),
                           help_text="如：根据青民〔2027〕3号文调整标准")

    def __init__(self, *args: Any, kind: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if kind == BenefitKind.CO_PAYMENT_TIER:
            self.fields["amount"].required = False  # a tier is a price, not money paid


AMOUNT_LABELS = {
    BenefitKind.MONTHLY_QUOTA: "每月额度（元）", BenefitKind.ANNUAL_VOUCHER: "服务券年度面值（元）",
    BenefitKind.MONTHLY_SUBSIDY: "每月补贴（元）", BenefitKind.ONE_OFF_GRANT: "补助最高额（元）",
    BenefitKind.PER_SERVICE: "每次补贴（元）",
}


def _field_for(error: UserError) -> str | None:
    field = (error.field or "").removeprefix("parameters.")
    return field or None


def _add_error(form: forms.Form, error: UserError) -> None:
    field = _field_for(error)
    form.add_error(field if field in form.fields else None, error.message)


# --- helpers ----------------------------------------------------------------------------------------------


def _require_read(request: AuthedRequest) -> None:
    if not access.can_read_policies(request.user):
        raise PermissionDenied("您没有查看补贴政策的权限")


def _chosen_district(request: AuthedRequest, districts: list[Region]) -> Region:
    raw = request.POST.get("district") or request.GET.get("district")
    chosen = next((d for d in districts if str(d.pk) == raw), None) if raw else None
    return chosen or districts[0]


def _current(versions: list[PolicyVersion], on: dt.date) -> dict[str, Any]:
    """The version in force, or the next one when none is yet."""
    now = authoring.version_in_force(versions, on)
    upcoming = min((v for v in versions if v.effective_from > on), key=lambda v: v.effective_from, default=None)
    return {"now": now, "upcoming": upcoming, "count": len(versions)}


# --- the list --------------------------------------------------------------------------------------------


def policy_list(request: AuthedRequest) -> HttpResponse:
    _require_read(request)
    today = timezone.localdate()
    status = request.GET.get("status", "")
    qs = access.visible_policies(request.user).select_related("fund", "district").order_by(
        "district__code", "exclusivity_group", "code")
    if status in PolicyStatus.values:
        qs = qs.filter(status=status)
    policies = list(qs)
    versions: dict[int, list[PolicyVersion]] = {p.pk: [] for p in policies}
    for v in PolicyVersion.objects.filter(policy__in=policies):
        versions[v.policy_id].append(v)
    rows = []
    for p in policies:
        current = _current(versions[p.pk], today)
        shown = current["now"] or current["upcoming"]
        rows.append({"p": p, "badge": STATUS_BADGES[PolicyStatus(p.status)], **current,
                     "benefit": describe(p.benefit_kind, shown.amount, shown.parameters) if shown else ""})
    managed = list(access.managed_districts(request.user))
    context = {"rows": rows, "status": status, "statuses": PolicyStatus.choices, "can_create": bool(managed),
               "many_districts": len({p.district_id for p in policies}) > 1, "today": today}
    return render(request, "eligibility/policies/list.html", context)


# --- one policy ---------------------------------------------------------------------------------------------


def policy_detail(request: AuthedRequest, policy_id: int) -> HttpResponse:
    policy = access.access_policy(request.user, policy_id)
    today = timezone.localdate()
    versions = list(policy.versions.select_related("created_by").order_by("-effective_from"))
    now = authoring.version_in_force(versions, today)
    region_names = dict(Region.objects.filter(code__startswith=policy.district.prefix).values_list("code", "name"))
    version_rows = [{
        "v": v, "benefit": describe(policy.benefit_kind, v.amount, v.parameters),
        "condition": authoring.describe_condition(v.condition, regions=region_names),
        "in_force": now is not None and v.pk == now.pk, "future": v.effective_from > today,
    } for v in versions]
    names = dict(Policy.objects.filter(district=policy.district, code__in=policy.excludes)
                 .values_list("code", "name"))
    same_group = (list(Policy.objects.filter(district=policy.district, exclusivity_group=policy.exclusivity_group)
                       .exclude(pk=policy.pk).order_by("code")) if policy.exclusivity_group else [])
    excluded_by = [p for p in Policy.objects.filter(district=policy.district).exclude(pk=policy.pk).order_by("code")
                   if policy.code in (p.excludes or [])]
    may_manage = access.can_manage(request.user, policy.district)
    context = {
        "policy": policy, "versions": version_rows, "now": now, "today": today,
        "badge": STATUS_BADGES[PolicyStatus(policy.status)],
        "excludes": [{"code": c, "name": names.get(c, "")} for c in policy.excludes],
        "same_group": same_group, "excluded_by": excluded_by, "may_manage": may_manage,
        "may_activate": may_manage and policy.status == PolicyStatus.DRAFT and bool(versions),
        "may_retire": may_manage and policy.status == PolicyStatus.ACTIVE,
        "may_edit": may_manage and policy.status != PolicyStatus.RETIRED,
    }
    return render(request, "eligibility/policies/detail.html", context)


def _policy_values(form: PolicyForm, district: Region) -> authoring.PolicyValues:
    data = form.cleaned_data
    fund = Fund.objects.filter(pk=data["fund"]).first() if str(data.get("fund") or "").isdigit() else None
    return authoring.PolicyValues(
        name=data.get("name") or "", legal_basis=data.get("legal_basis") or "", fund=fund,
        benefit_kind=data.get("benefit_kind") or "", exclusivity_group=data.get("exclusivity_group") or "",
        excludes=data.get("excludes") or [], proactive=bool(data.get("proactive")))


def _groups(district: Region) -> list[str]:
    return sorted(set(Policy.objects.filter(district=district).exclude(exclusivity_group="")
                      .values_list("exclusivity_group", flat=True)))


def policy_create(request: AuthedRequest) -> HttpResponse:
    districts = list(access.managed_districts(request.user))
    if not districts:
        raise PermissionDenied("您没有维护补贴政策的权限")
    district = _chosen_district(request, districts)
    posted = request.method == "POST"
    form = PolicyForm(request.POST if posted else None, districts=districts, district=district,
                      initial={"proactive": True, "district": district.pk})
    if posted and form.is_valid():
        try:
            policy = authoring.create_policy(district, code=form.cleaned_data.get("code") or "",
                                             values=_policy_values(form, district), acting_user=request.user,
                                             request=request)
        except UserError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, f"已建立政策“{policy.name}”（草稿）。请添加第一个版本：条件、金额和生效日期")
            return redirect("eligibility:policy_version", policy_id=policy.pk)
    context = {"form": form, "policy": None, "district": district, "groups": _groups(district),
               "has_funds": Fund.objects.filter(district=district).exists()}
    return render(request, "eligibility/policies/form.html", context)


def policy_edit(request: AuthedRequest, policy_id: int) -> HttpResponse:
    policy = access.access_policy(request.user, policy_id, for_write=True)
    district = policy.district
    initial = {"name": policy.name, "legal_basis": policy.legal_basis, "fund": policy.fund_id,
               "benefit_kind": policy.benefit_kind, "exclusivity_group": policy.exclusivity_group,
               "excludes": list(policy.excludes), "proactive": policy.proactive}
    posted = request.method == "POST"
    form = PolicyForm(request.POST if posted else None, districts=[district], district=district, policy=policy,
                      initial=initial)
    if posted and form.is_valid():
        try:
            authoring.update_policy(policy, values=_policy_values(form, district), acting_user=request.user,
                                    request=request)
        except UserError as exc:
            _add_error(form, exc)
        else:
            messages.success(request, "政策信息已保存")
            return redirect("eligibility:policy_detail", policy_id=policy.pk)
    context = {"form": form, "policy": policy, "district": district, "groups": _groups(district), "has_funds": True}
    return render(request, "eligibility/policies/form.html", context)


# --- a new version ------------------------------------------------------------------------------------------


def _first_of_next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _posted_tree(text: str) -> Any:
    try:
        return json.loads(text) if text else None
    except ValueError:
        return None


def _parameters(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    if kind == BenefitKind.PER_SERVICE:
        return {"unit": data.get("unit") or "", "monthly_cap": data.get("monthly_cap") or ""}
    if kind == BenefitKind.CO_PAYMENT_TIER:
        return {"tier": data.get("tier") or "", "co_payment_rate": data.get("co_payment_rate") or ""}
    return {}


def policy_version(request: AuthedRequest, policy_id: int) -> HttpResponse:
    policy = access.access_policy(request.user, policy_id, for_write=True)
    if policy.status == PolicyStatus.RETIRED:
        messages.error(request, "已废止的政策不能再增加版本")
        return redirect("eligibility:policy_detail", policy_id=policy.pk)
    kind = policy.benefit_kind
    latest = policy.versions.order_by("-effective_from").first()
    today = timezone.localdate()
    current = authoring.version_in_force(list(policy.versions.all()), today) or latest
    condition_error: UserError | None = None
    if request.method == "POST":
        form = VersionForm(request.POST, kind=kind)
        tree = _posted_tree(request.POST.get("condition", ""))
        if not form.is_valid():
            try:  # the condition's problems are shown together with the form's
                authoring.check_condition(authoring.parse_condition(request.POST.get("condition", "")),
                                          district=policy.district)
            except UserError as exc:
                condition_error = exc
        else:
            data = form.cleaned_data
            try:
                condition = authoring.parse_condition(request.POST.get("condition", ""))
                amount = (Decimal(0) if kind == BenefitKind.CO_PAYMENT_TIER
                          else authoring.parse_amount(data.get("amount")))
                version = authoring.add_version(
                    policy, effective_from=data["effective_from"], condition=condition, amount=amount,
                    acting_user=request.user, note=data.get("note") or "", parameters=_parameters(kind, data),
                    proration=data.get("proration") or Proration.NONE, request=request)
            except UserError as exc:
                if (exc.field or "").startswith("condition"):
                    condition_error = exc
                else:
                    _add_error(form, exc)
            else:
                messages.success(request, f"已保存第 {version.number} 版，自 {version.effective_from:%Y-%m-%d} 起生效")
                return redirect("eligibility:policy_detail", policy_id=policy.pk)
    else:
        # By default from next month, and always after the latest version; amounts start from it.
        starts = _first_of_next_month(today)
        initial: dict[str, Any] = {"effective_from": starts, "proration": Proration.NONE}
        if latest is not None:
            initial.update({"effective_from": max(starts, latest.effective_from + dt.timedelta(days=1)),
                            "amount": latest.amount, "proration": latest.proration, **latest.parameters})
        form = VersionForm(initial=initial, kind=kind)
        tree = current.condition if current is not None else None
    context = {
        "policy": policy, "form": form, "latest": latest, "kind": kind,
        "amount_label": AMOUNT_LABELS.get(BenefitKind(kind), "金额（元）"),
        "kind_help": KIND_HELP.get(BenefitKind(kind), ""),
        **authoring.builder_context(policy.district, tree, error=condition_error),
    }
    return render(request, "eligibility/policies/version_form.html", context)


# --- status -------------------------------------------------------------------------------------------------


@require_POST
def policy_status(request: AuthedRequest, policy_id: int) -> HttpResponse:
    policy = access.access_policy(request.user, policy_id, for_write=True)
    status = request.POST.get("status", "")
    try:
        done = authoring.set_status(policy, status, acting_user=request.user, request=request)
    except UserError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, "政策已发布施行，自下一次月度计算起生效" if done.status == PolicyStatus.ACTIVE
                         else "政策已废止，此后的月度计算不再包括该政策")
    return redirect("eligibility:policy_detail", policy_id=policy.pk)


# --- funds --------------------------------------------------------------------------------------------------


class FundForm(forms.Form):
    district = forms.CharField(label="区县", required=False, widget=forms.Select)
    code = forms.CharField(label="资金编码", error_messages={"required": "请填写资金编码"}, help_text="小写英文字母、数字和下划线，如 welfare_lottery")
    name = forms.CharField(label="资金名称", error_messages={"required": "请填写资金名称"}, help_text="如：福利彩票公益金")

    def __init__(self, *args: Any, districts: list[Region], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if len(districts) < 2:
            del self.fields["district"]
        else:
            self.fields["district"].widget.choices = [(d.pk, d.name) for d in districts]


def policy_funds(request: AuthedRequest) -> HttpResponse:
    _require_read(request)
    managed = list(access.managed_districts(request.user))
    form = FundForm(request.POST or None, districts=managed)
    if request.method == "POST":
        if not managed:
            raise PermissionDenied("您没有维护补贴政策的权限")
        district = _chosen_district(request, managed)
        if form.is_valid():
            try:
                fund = authoring.create_fund(district, code=form.cleaned_data.get("code") or "",
                                             name=form.cleaned_data.get("name") or "", acting_user=request.user,
                                             request=request)
            except UserError as exc:
                _add_error(form, exc)
            else:
                messages.success(request, f"已新建资金“{fund.name}”")
                return redirect("eligibility:policy_funds")
    funds = (access.visible_funds(request.user).select_related("district")
             .annotate(policy_count=Count("policies")).order_by("district__code", "code"))
    context = {"funds": funds, "form": form, "may_create": bool(managed)}
    return render(request, "eligibility/policies/funds.html", context)
