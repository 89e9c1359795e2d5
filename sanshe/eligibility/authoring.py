"""Writing policies: funds, a policy's identity (name, legal basis, fund, benefit kind, exclusivity,
exclusions, 免申即享) and its versions of conditions and amounts, each from an effective date.
Everything is checked when saved; a malformed tree or parameter never reaches a monthly run. Every
change is written to the audit log.

Also here: the condition in words (for pages, the API and the condition builder's field list). Who
may read and write a district's policies is in eligibility.access."""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from sanshe.accounts.models import Region, RegionLevel
from sanshe.core.audit import changed_fields, record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.eligibility.access import can_manage
from sanshe.eligibility.benefits import describe, validate_parameters
from sanshe.eligibility.models import BenefitKind, Fund, Policy, PolicyStatus, PolicyVersion, Proration
from sanshe.eligibility.queries import fields
from sanshe.eligibility.rules import BOOL_OPS, OP_LABELS, ConditionError, FieldSpec, validate

CODE_PATTERN = re.compile(r"^[a-z0-9_]+$")
# The select in the condition builder says what each operator means.
OP_TEXT = {
    "eq": "等于", "ne": "不等于", "lt": "小于", "lte": "小于或等于", "gt": "大于", "gte": "大于或等于",
    "between": "介于（含两端）", "in": "属于", "not_in": "不属于", "is_true": "是", "is_false": "否",
    "within": "在…内", "not_within": "不在…内",
}
# Status changes a district officer may make (draft → active needs a version; retired is final).
TRANSITIONS = {(PolicyStatus.DRAFT, PolicyStatus.ACTIVE), (PolicyStatus.ACTIVE, PolicyStatus.RETIRED)}


def _require_manage(user: Any, district: Region) -> None:
    if not can_manage(user, district):
        raise PermissionDenied("您没有维护补贴政策的权限")


# --- the condition ------------------------------------------------------------------------------------


def field_specs() -> list[dict[str, Any]]:
    """The fields a condition may test, as the condition builder and the API describe them."""
    return [{
        "key": spec.key, "label": spec.label, "kind": spec.kind, "unit": spec.unit,
        "ops": [{"op": op, "label": OP_LABELS[op], "text": OP_TEXT[op]} for op in spec.ops],
        "choices": [{"value": value, "label": label} for value, label in spec.choices],
    } for spec in fields().values()]


def region_options(district: Region) -> list[dict[str, str]]:
    """The district (本区户籍, 本区居住) and its streets and communities, for region conditions."""
    rows = Region.objects.filter(code__startswith=district.prefix,
                                 level__in=(RegionLevel.STREET, RegionLevel.COMMUNITY)).order_by("code")
    return [{"code": district.code, "name": district.name, "level": district.level},
            *[{"code": r.code, "name": r.name, "level": r.level} for r in rows]]


def builder_context(district: Region, condition: Any = None, *, error: UserError | None = None) -> dict[str, Any]:
    """The context of templates/eligibility/policies/_condition_builder.html."""
    context: dict[str, Any] = {"fields_json": field_specs(), "regions_json": region_options(district),
                               "condition_json": condition}
    if error is not None:
        context["condition_error"] = error.message
        context["condition_error_path"] = condition_path(error)
    return context


def condition_path(error: UserError) -> str:
    """The node a condition error points at ("all.1.value"), or "" for the whole tree."""
    field = error.field or ""
    return field[len("condition."):] if field.startswith("condition.") else ""


def _position(path: str) -> str:
    """Where a node is, as the builder shows it: "第 2 项 › 第 1 项". A "都不满足" group is {"not": {"any":
    [...]}}, or {"not": node} when it holds a single item."""
    parts = [p for p in path.split(".") if p]
    positions: list[str] = []
    for index, part in enumerate(parts):
        following = parts[index + 1] if index + 1 < len(parts) else ""
        if part in ("all", "any") and following.isdigit():
            positions.append(f"第 {int(following) + 1} 项")
        elif part == "not" and following != "any":
            positions.append("第 1 项")
    return " › ".join(positions)


def _node_at(tree: Any, path: str) -> Any:
    node = tree
    for part in [p for p in path.split(".") if p]:
        if part in ("field", "op", "value"):
            break
        try:
            node = node[int(part)] if part.isdigit() else node[part]
        except (KeyError, IndexError, TypeError):
            return None
    return node


def _empty(value: Any) -> bool:
    if value is None or (isinstance(value, str) and not value.strip()):
        return True
    return isinstance(value, list) and (not value or any(_empty(v) for v in value))


def check_condition(condition: Any, *, district: Region | None = None) -> None:
    """Refuse a tree that cannot be used, naming the node: the rule broken and where it sits. With a
    district, region conditions must name one of its streets or communities."""
    try:
        validate(condition, fields())
        if district is not None:
            _check_regions(condition, district)
    except ConditionError as exc:
        message = exc.message
        node = _node_at(condition, exc.path)
        if isinstance(node, Mapping) and "field" in node:
            spec = fields().get(str(node.get("field") or ""))
            if not node.get("field"):
                message = "请选择条件项"
            elif spec is not None and exc.path.endswith("value") and node.get("op") not in BOOL_OPS \
                    and _empty(node.get("value")):
                message = (f"请选择{spec.label}的取值" if spec.kind in ("choice", "region")
                           else f"请填写{spec.label}的比较值")
        where = _position(exc.path)
        raise UserError(message + (f"（位置：{where}）" if where else ""),
                        field=f"condition.{exc.path}".rstrip(".")) from None


def _check_regions(tree: Any, district: Region, path: str = "") -> None:
    if "all" in tree or "any" in tree:
        key = "all" if "all" in tree else "any"
        for index, child in enumerate(tree[key]):
            _check_regions(child, district, f"{path}{key}.{index}.")
        return
    if "not" in tree:
        _check_regions(tree["not"], district, f"{path}not.")
        return
    spec = fields()[tree["field"]]
    if spec.kind != "region":
        return
    code = str(tree.get("value"))
    full = code.ljust(12, "0")
    if not full.startswith(district.prefix) or not Region.objects.filter(code=full).exists():
        raise ConditionError(f"{spec.label}的区划代码“{code}”不是本区的街道或社区", f"{path}value")


def parse_condition(text: str) -> Any:
    """The condition as posted by the builder (JSON text)."""
    if not text or not text.strip():
        raise UserError("请设置条件", field="condition")
    try:
        return json.loads(text)
    except ValueError:
        raise UserError("条件格式不正确", field="condition") from None


def _value_text(spec: FieldSpec, value: Any, regions: Mapping[str, str]) -> str:
    if spec.kind == "choice":
        labels = dict(spec.choices)
        values = value if isinstance(value, list) else [value]
        return "、".join(labels.get(str(v), str(v)) for v in values)
    if spec.kind == "region":
        return regions.get(str(value).ljust(12, "0"), str(value))
    if spec.kind == "money":
        return f"{value}元"
    return str(value)


def _leaf_text(node: Mapping[str, Any], regions: Mapping[str, str]) -> str:
    spec = fields().get(str(node.get("field")))
    if spec is None:
        return str(node.get("field"))
    op = str(node.get("op"))
    if op in BOOL_OPS:
        return f"{spec.label}：{OP_LABELS[op]}"
    value = node.get("value")
    if op == "between" and isinstance(value, list) and len(value) == 2:
        return f"{spec.label} 介于 {_value_text(spec, value[0], regions)}–{_value_text(spec, value[1], regions)}"
    return f"{spec.label} {OP_LABELS.get(op, op)} {_value_text(spec, value, regions)}"


def _join(parts: list[str], word: str) -> str:
    """Parts joined by 且/或, without spaces next to full-width brackets."""
    text = parts[0]
    for part in parts[1:]:
        text += ("" if text.endswith("）") else " ") + word + ("" if part.startswith("（") else " ") + part
    return text


def _region_codes(tree: Any) -> set[str]:
    if not isinstance(tree, Mapping):
        return set()
    if "all" in tree or "any" in tree:
        return set().union(*(_region_codes(c) for c in tree.get("all", tree.get("any")) or []))
    if "not" in tree:
        return _region_codes(tree["not"])
    spec = fields().get(str(tree.get("field")))
    return {str(tree.get("value")).ljust(12, "0")} if spec is not None and spec.kind == "region" else set()


def describe_condition(tree: Any, *, regions: Mapping[str, str] | None = None) -> str:
    """The condition in words: "年龄 ≥ 80 且（经济状况 属于 低保、特困供养 或 重点优抚对象：是）"."""
    if regions is None:
        codes = _region_codes(tree)
        regions = dict(Region.objects.filter(code__in=codes).values_list("code", "name")) if codes else {}

    def text(node: Any, nested: bool) -> str:
        if not isinstance(node, Mapping):
            return "（条件格式不正确）"
        if "all" in node or "any" in node:
            key = "all" if "all" in node else "any"
            children = [text(c, True) for c in node[key] or []]
            if not children:
                return "（无条件）"
            if len(children) == 1:
                return children[0]
            joined = _join(children, "且" if key == "all" else "或")
            return f"（{joined}）" if nested else joined
        if "not" in node:
            inner = text(node["not"], False)
            return f"并非（{inner}）"
        return _leaf_text(node, regions)

    return text(tree, False)


# --- funds ----------------------------------------------------------------------------------------------


def _check_code(code: str, *, label: str, max_length: int) -> str:
    code = (code or "").strip()
    if not code:
        raise UserError(f"请填写{label}", field="code")
    if not CODE_PATTERN.match(code):
        raise UserError(f"{label}只能由小写英文字母、数字和下划线组成，如 aged_80", field="code")
    if len(code) > max_length:
        raise UserError(f"{label}最长 {max_length} 个字符", field="code")
    return code


def _required(value: str, *, label: str, field: str, max_length: int) -> str:
    value = (value or "").strip()
    if not value:
        raise UserError(f"请填写{label}", field=field)
    if len(value) > max_length:
        raise UserError(f"{label}最长 {max_length} 个字", field=field)
    return value


@transaction.atomic
def create_fund(district: Region, *, code: str, name: str, acting_user: Any,
                request: HttpRequest | None = None) -> Fund:
    """A fund of the district that policies are paid from (专款专用)."""
    _require_manage(acting_user, district)
    code = _check_code(code, label="资金编码", max_length=32)
    name = _required(name, label="资金名称", field="name", max_length=100)
    if Fund.objects.filter(district=district, code=code).exists():
        raise UserError(f"本区已有编码为“{code}”的资金", field="code")
    try:
        with transaction.atomic():
            fund = Fund.objects.create(district=district, code=code, name=name)
    except IntegrityError:
        raise UserError(f"本区已有编码为“{code}”的资金", field="code") from None
    record_event(acting_user, AuditAction.MANAGE_POLICY, request=request, subject=f"新建资金：{name}",
                 detail={"change": "create_fund", "district": district.code, "fund": code, "name": name})
    return fund


# --- policies ----------------------------------------------------------------------------------------


@dataclass
class PolicyValues:
    """The identity of a policy as entered (checked by create_policy / update_policy)."""

    name: str
    legal_basis: str
    fund: Fund | None
    benefit_kind: str
    exclusivity_group: str = ""
    excludes: Iterable[str] = ()
    proactive: bool = True


def _checked(district: Region, values: PolicyValues, *, own_code: str) -> dict[str, Any]:
    name = _required(values.name, label="政策名称", field="name", max_length=200)
    legal_basis = _required(values.legal_basis, label="政策依据（文号）", field="legal_basis", max_length=200)
    if values.fund is None:
        raise UserError("请选择资金来源", field="fund")
    if values.fund.district_id != district.pk:
        raise UserError("资金来源须为本区的资金", field="fund")
    if values.benefit_kind not in BenefitKind.values:
        raise UserError("请选择待遇类型", field="benefit_kind")
    group = (values.exclusivity_group or "").strip()
    if len(group) > 40:
        raise UserError("互斥组最长 40 个字符", field="exclusivity_group")
    excludes: list[str] = []
    for raw in values.excludes or ():
        code = str(raw).strip()
        if code and code not in excludes:
            excludes.append(code)
    if own_code in excludes:
        raise UserError("“不与以下待遇同时享受”不能包括本政策自身", field="excludes")
    known = set(Policy.objects.filter(district=district, code__in=excludes).values_list("code", flat=True))
    unknown = [c for c in excludes if c not in known]
    if unknown:
        raise UserError(f"“不与以下待遇同时享受”中的政策编码“{'、'.join(unknown)}”在本区不存在", field="excludes")
    return {"name": name, "legal_basis": legal_basis, "fund": values.fund, "benefit_kind": values.benefit_kind,
            "exclusivity_group": group, "excludes": excludes, "proactive": bool(values.proactive)}


@transaction.atomic
def create_policy(district: Region, *, code: str, values: PolicyValues, acting_user: Any,
                  request: HttpRequest | None = None) -> Policy:
    """A new policy of the district, as a draft: its conditions and amounts come with its first version."""
    _require_manage(acting_user, district)
    code = _check_code(code, label="政策编码", max_length=40)
    data = _checked(district, values, own_code=code)
    if Policy.objects.filter(district=district, code=code).exists():
        raise UserError(f"本区已有编码为“{code}”的政策", field="code")
    try:
        with transaction.atomic():
            policy = Policy.objects.create(district=district, code=code, created_by=acting_user, **data)
    except IntegrityError:
        raise UserError(f"本区已有编码为“{code}”的政策", field="code") from None
    record_event(acting_user, AuditAction.MANAGE_POLICY, request=request, subject=f"新建政策：{policy.name}",
                 detail={"change": "create_policy", "policy": code, "district": district.code,
                         "values": _snapshot(policy)})
    return policy


def _snapshot(policy: Policy) -> dict[str, Any]:
    return {"name": policy.name, "legal_basis": policy.legal_basis, "fund": policy.fund.code,
            "benefit_kind": policy.benefit_kind, "exclusivity_group": policy.exclusivity_group,
            "excludes": list(policy.excludes), "proactive": policy.proactive}


@transaction.atomic
def update_policy(policy: Policy, *, values: PolicyValues, acting_user: Any,
                  request: HttpRequest | None = None) -> Policy:
    """Change a policy's identity. The code never changes (other policies exclude it by code), and the
    benefit kind is fixed once a version gives amounts in its terms."""
    _require_manage(acting_user, policy.district)
    locked = Policy.objects.select_for_update(of=("self",)).select_related("fund", "district").get(pk=policy.pk)
    if locked.status == PolicyStatus.RETIRED:
        raise UserError("已废止的政策不能修改")
    data = _checked(locked.district, values, own_code=locked.code)
    if data["benefit_kind"] != locked.benefit_kind and locked.versions.exists():
        raise UserError("已有版本的政策不能更改待遇类型（各版本的金额和参数按原类型填写）；如需改变，请新建政策",
                        field="benefit_kind")
    before = _snapshot(locked)
    for name, value in data.items():
        setattr(locked, name, value)
    after = _snapshot(locked)
    changed = changed_fields(before, after)
    if changed:
        locked.save(update_fields=list(data))
        record_event(acting_user, AuditAction.MANAGE_POLICY, request=request, subject=f"修改政策：{locked.name}",
                     detail={"change": "update_policy", "policy": locked.code, "changed": changed})
    return locked


@transaction.atomic
def set_status(policy: Policy, status: str, *, acting_user: Any, request: HttpRequest | None = None) -> Policy:
    """Put a draft in force (it needs a version) or retire a policy in force; retired is final."""
    _require_manage(acting_user, policy.district)
    locked = Policy.objects.select_for_update(of=("self",)).select_related("district", "fund").get(pk=policy.pk)
    if status not in PolicyStatus.values:
        raise UserError("请选择政策状态：active（施行）或 retired（废止）", field="status")
    if status == locked.status:
        raise UserError(f"该政策已是“{locked.get_status_display()}”状态", field="status")
    if locked.status == PolicyStatus.RETIRED:
        raise UserError("已废止的政策不能恢复施行；如需继续，请新建政策", field="status")
    if (locked.status, status) not in TRANSITIONS:
        raise UserError("草稿政策尚未施行，不能废止；只有施行中的政策可以废止", field="status")
    if status == PolicyStatus.ACTIVE and not locked.versions.exists():
        raise UserError("请先添加至少一个版本（条件和金额），再发布施行", field="status")
    before = locked.status
    locked.status = status
    locked.save(update_fields=["status"])
    record_event(acting_user, AuditAction.MANAGE_POLICY, request=request,
                 subject=f"{'发布施行' if status == PolicyStatus.ACTIVE else '废止'}政策：{locked.name}",
                 detail={"change": "set_status", "policy": locked.code, "from": before, "to": status})
    return locked


# --- versions ----------------------------------------------------------------------------------------


def parse_amount(text: Any, *, field: str = "amount", label: str = "金额") -> Decimal:
    """An amount typed into a form ("500", "12.50"); the range and precision are checked with the version."""
    raw = str(text if text is not None else "").strip().replace(",", "").replace("，", "")
    if not raw:
        raise UserError(f"请填写{label}", field=field)
    try:
        value = Decimal(raw)
    except InvalidOperation:
        raise UserError(f"{label}“{raw}”应为数字，如 500 或 12.50", field=field) from None
    if not value.is_finite():
        raise UserError(f"{label}“{raw}”应为数字，如 500 或 12.50", field=field)
    return value


def _clean_parameters(kind: str, parameters: Mapping[str, Any] | None) -> dict[str, Any]:
    """Blank inputs are absent, and a low-cost tier without its rate is named plainly."""
    cleaned = {k: v for k, v in (parameters or {}).items() if v is not None and str(v).strip() != ""}
    if kind == BenefitKind.CO_PAYMENT_TIER and cleaned.get("tier") == "low_cost" and "co_payment_rate" not in cleaned:
        raise UserError("低偿服务须填写自付比例，如 0.3 表示自付三成", field="parameters.co_payment_rate")
    return cleaned


@transaction.atomic
def add_version(policy: Policy, *, effective_from: dt.date, condition: dict[str, Any], amount: Decimal,
                acting_user: Any, note: str = "", parameters: dict[str, Any] | None = None,
                proration: str = Proration.NONE, request: HttpRequest | None = None) -> PolicyVersion:
    """A new version of a policy's conditions and amount from a date; the previous one ends the day
    before. Versions never overlap: a new one must start after every existing one."""
    if policy.status == PolicyStatus.RETIRED:
        raise UserError("已废止的政策不能再增加版本")
    if not isinstance(effective_from, dt.date):
        raise UserError("请填写生效日期", field="effective_from")
    check_condition(condition, district=policy.district)
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise UserError("金额应为数字，如 500 或 12.50", field="amount")
    parameters = validate_parameters(policy.benefit_kind, amount, _clean_parameters(policy.benefit_kind, parameters))
    if proration not in Proration.values:
        raise UserError("请选择月中变化的折算规则", field="proration")
    if len(note) > 300:
        raise UserError("说明最长 300 个字", field="note")
    Policy.objects.select_for_update().filter(pk=policy.pk).first()  # one writer of versions at a time
    latest = policy.versions.order_by("-effective_from").first()
    if latest and latest.effective_from >= effective_from:
        raise UserError(f"已有 {latest.effective_from} 生效的版本，新版本的生效日期须晚于它", field="effective_from")
    if latest:
        latest.effective_to = effective_from - dt.timedelta(days=1)
        latest.save(update_fields=["effective_to"])
    version = PolicyVersion.objects.create(
        policy=policy, number=(latest.number + 1) if latest else 1, effective_from=effective_from,
        condition=condition, amount=amount, parameters=parameters, proration=proration, note=note[:300],
        created_by=acting_user,
    )
    record_event(acting_user, AuditAction.MANAGE_POLICY, request=request,
                 subject=f"政策新版本：{policy.name} 第 {version.number} 版",
                 detail={"change": "add_version", "policy": policy.code, "version": version.number,
                         "effective_from": effective_from.isoformat(), "amount": str(amount),
                         "parameters": parameters, "proration": proration, "condition": condition})
    return version


# --- reading ------------------------------------------------------------------------------------------


def version_in_force(versions: Iterable[PolicyVersion], on: dt.date) -> PolicyVersion | None:
    """The version in force on a date, from versions of one policy."""
    for v in sorted(versions, key=lambda v: v.effective_from, reverse=True):
        if v.effective_from <= on and (v.effective_to is None or v.effective_to >= on):
            return v
    return None


def benefit_text(policy: Policy, version: PolicyVersion) -> str:
    return describe(policy.benefit_kind, version.amount, version.parameters)
