"""Policy conditions as data: a small tree of field–operator–value nodes joined by all / any / not,
validated, evaluated for one person with an explanation ("年龄 78 < 80"), never evaluated as
free text. The same tree compiles to a database query (eligibility.queries) for the monthly run.

A tree is JSON:
    {"all": [node, …]} | {"any": [node, …]} | {"not": node}
    | {"field": "age", "op": "gte", "value": 80}

Facts are plain values per field (see FIELDS), computed for a person on a reference date by
eligibility.queries.facts_for; this module never touches the database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

MAX_DEPTH = 8
MAX_NODES = 200


@dataclass(frozen=True)
class FieldSpec:
    key: str
    label: str
    kind: str  # "number", "money", "choice", "bool", "region"
    ops: tuple[str, ...]
    choices: tuple[tuple[str, str], ...] = ()
    unit: str = ""


NUMBER_OPS = ("eq", "ne", "lt", "lte", "gt", "gte", "between")
CHOICE_OPS = ("eq", "ne", "in", "not_in")
BOOL_OPS = ("is_true", "is_false")
REGION_OPS = ("within", "not_within")

OP_LABELS = {
    "eq": "=", "ne": "≠", "lt": "<", "lte": "≤", "gt": ">", "gte": "≥", "between": "介于",
    "in": "属于", "not_in": "不属于", "is_true": "是", "is_false": "否", "within": "在", "not_within": "不在",
}
# What a failed comparison looks like when explained ("年龄 78 < 80" for a failed "≥ 80").
FAILED = {"eq": "≠", "ne": "=", "lt": "≥", "lte": ">", "gt": "≤", "gte": "<"}


def _choices(pairs: Sequence[tuple[str, str]]) -> tuple[tuple[str, str], ...]:
    return tuple((str(k), str(v)) for k, v in pairs)


def build_fields(code_tables: Mapping[str, Sequence[tuple[str, str]]]) -> dict[str, FieldSpec]:
    """The fields a condition may use, with the code tables of the person file and assessments."""
    specs = [
        FieldSpec("age", "年龄", "number", NUMBER_OPS, unit="岁"),
        FieldSpec("sex", "性别", "choice", CHOICE_OPS, _choices(code_tables["sex"])),
        FieldSpec("status", "档案状态", "choice", CHOICE_OPS, _choices(code_tables["status"])),
        FieldSpec("economic_status", "经济状况", "choice", CHOICE_OPS, _choices(code_tables["economic_status"])),
        FieldSpec("living_arrangement", "居住情况", "choice", CHOICE_OPS, _choices(code_tables["living_arrangement"])),
        FieldSpec("capability_level", "能力等级（有效评估）", "number", NUMBER_OPS, unit="级"),
        FieldSpec("disability_grade", "残疾等级", "number", NUMBER_OPS, unit="级"),
        FieldSpec("disability_category", "残疾类别", "choice", CHOICE_OPS, _choices(code_tables["disability_category"])),
        FieldSpec("residence_region", "居住地", "region", REGION_OPS),
        FieldSpec("registered_region", "户籍地", "region", REGION_OPS),
        FieldSpec("monthly_income", "月收入", "money", NUMBER_OPS, unit="元"),
        FieldSpec("income_after_medical", "扣除医疗支出后的月收入", "money", NUMBER_OPS, unit="元"),
        FieldSpec("family_doctor_signed", "已签约家庭医生", "bool", BOOL_OPS),
    ]
    specs += [FieldSpec(key, label, "bool", BOOL_OPS) for key, label in code_tables["special_groups"]]
    return {s.key: s for s in specs}


class ConditionError(ValueError):
    """A tree that cannot be used; `path` points at the node (e.g. "all.2.value")."""

    def __init__(self, message: str, path: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.path = path


@dataclass(frozen=True)
class Check:
    """One leaf as evaluated: its text and whether it held."""

    text: str
    passed: bool


@dataclass(frozen=True)
class Outcome:
    passed: bool
    checks: list[Check]  # every leaf that was looked at, in order

    @property
    def first_failure(self) -> str:
        """Why the condition did not hold ("年龄 78 < 80"); empty when it held."""
        if self.passed:
            return ""
        return next((c.text for c in self.checks if not c.passed), "")


def _number(value: Any, path: str, label: str) -> Decimal:
    if isinstance(value, bool):
        raise ConditionError(f"{label}的比较值应为数字", path)
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise ConditionError(f"{label}的比较值“{value}”应为数字", path) from None


def validate(tree: Any, fields: Mapping[str, FieldSpec]) -> None:
    """Check a tree completely; raise ConditionError naming the first bad node."""
    count = 0

    def walk(node: Any, path: str, depth: int) -> None:
        nonlocal count
        count += 1
        if count > MAX_NODES:
            raise ConditionError(f"条件过多（最多 {MAX_NODES} 个）", path)
        if depth > MAX_DEPTH:
            raise ConditionError(f"条件嵌套过深（最多 {MAX_DEPTH} 层）", path)
        if not isinstance(node, Mapping):
            raise ConditionError("条件格式不正确", path)
        if "all" in node or "any" in node:
            key = "all" if "all" in node else "any"
            children = node[key]
            if not isinstance(children, list) or not children:
                raise ConditionError("“全部满足/任一满足”下至少要有一个条件", path)
            for index, child in enumerate(children):
                walk(child, f"{path}{key}.{index}.", depth + 1)
            return
        if "not" in node:
            walk(node["not"], f"{path}not.", depth + 1)
            return
        spec = fields.get(str(node.get("field", "")))
        if spec is None:
            raise ConditionError(f"没有“{node.get('field')}”这一条件项", f"{path}field")
        op = node.get("op")
        if op not in spec.ops:
            allowed = "、".join(OP_LABELS[o] for o in spec.ops)
            raise ConditionError(f"{spec.label}不能用“{op}”比较（可用：{allowed}）", f"{path}op")
        value = node.get("value")
        where = f"{path}value"
        if op in BOOL_OPS:
            return
        if op == "between":
            if not isinstance(value, list) or len(value) != 2:
                raise ConditionError(f"{spec.label}“介于”需要两个数：下限和上限", where)
            low, high = (_number(v, where, spec.label) for v in value)
            if low > high:
                raise ConditionError(f"{spec.label}的下限 {low} 大于上限 {high}", where)
            return
        if spec.kind in ("number", "money"):
            _number(value, where, spec.label)
            return
        if spec.kind == "region":
            if not isinstance(value, str) or not value.isdigit() or len(value) not in (6, 9, 12):
                raise ConditionError(f"{spec.label}应填 6、9 或 12 位区划代码", where)
            return
        allowed_values = {k for k, _ in spec.choices}
        values = value if op in ("in", "not_in") else [value]
        if not isinstance(values, list) or not values:
            raise ConditionError(f"{spec.label}“{OP_LABELS[op]}”需要至少一个取值", where)
        for item in values:
            if str(item) not in allowed_values:
                raise ConditionError(f"{spec.label}没有“{item}”这一取值", where)

    walk(tree, "", 0)


def _shown(spec: FieldSpec, value: Any) -> str:
    if value is None:
        return "（无）"
    if spec.kind == "choice":
        labels = dict(spec.choices)
        if isinstance(value, list):
            return "、".join(labels.get(str(v), str(v)) for v in value)
        return labels.get(str(value), str(value))
    if spec.kind == "money":
        return f"{Decimal(str(value)):.2f}{spec.unit}" if spec.unit else str(value)
    if spec.kind == "number":
        return f"{value}{spec.unit}" if spec.unit in ("岁",) else str(value)
    return str(value)


def _leaf(node: Mapping[str, Any], spec: FieldSpec, facts: Mapping[str, Any]) -> Check:
    op, expected, actual = node["op"], node.get("value"), facts.get(spec.key)
    label = spec.label
    if op in BOOL_OPS:
        held = bool(actual) is (op == "is_true")
        return Check(f"{label}：{'是' if actual else '否'}", held)
    if spec.kind == "region":
        code = str(actual or "")
        prefix = str(expected).rstrip("0") if len(str(expected)) == 12 else str(expected)
        inside = bool(code) and code.startswith(prefix)
        held = inside if op == "within" else not inside
        return Check(f"{label} {code or '（无）'} {'在' if inside else '不在'} {expected} 内", held)
    if op in ("in", "not_in", "eq", "ne") and spec.kind == "choice":
        values = [str(v) for v in (expected if isinstance(expected, list) else [expected])]
        member = actual is not None and str(actual) in values
        held = member if op in ("in", "eq") else not member
        relation = "属于" if member else "不属于"
        return Check(f"{label} {_shown(spec, actual)} {relation} {_shown(spec, values)}", held)
    if actual is None:
        return Check(f"{label}（无记录）", False)
    number = Decimal(str(actual))
    if op == "between":
        low, high = (Decimal(str(v)) for v in (expected or ()))
        held = low <= number <= high
        return Check(f"{label} {_shown(spec, actual)} {'在' if held else '不在'} {low}–{high} 之间", held)
    target = Decimal(str(expected))
    held = {"eq": number == target, "ne": number != target, "lt": number < target, "lte": number <= target,
            "gt": number > target, "gte": number >= target}[op]
    symbol = OP_LABELS[op] if held else FAILED[op]
    return Check(f"{label} {_shown(spec, actual)} {symbol} {_shown(spec, expected)}", held)


def evaluate(tree: Mapping[str, Any], facts: Mapping[str, Any], fields: Mapping[str, FieldSpec]) -> Outcome:
    """Evaluate a validated tree for one person's facts; every leaf looked at is explained."""
    checks: list[Check] = []

    def walk(node: Mapping[str, Any]) -> bool:
        if "all" in node:
            return all(walk(child) for child in node["all"])  # stops at the first failure
        if "any" in node:
            start = len(checks)
            missed = []
            for child in node["any"]:
                before = len(checks)
                if walk(child):
                    return True
                missed.append(next((c.text for c in checks[before:] if not c.passed), ""))
            if len(missed) > 1:  # every alternative failed: say so, each with its first failure
                del checks[start:]
                checks.append(Check("以下任一条件均不满足：" + "；".join(missed), False))
            return False
        if "not" in node:
            inner: list[Check] = []
            checks_before = len(checks)
            held = walk(node["not"])
            inner = checks[checks_before:]
            del checks[checks_before:]
            text = "并非（" + "；".join(c.text for c in inner) + "）"
            checks.append(Check(text, not held))
            return not held
        check = _leaf(node, fields[node["field"]], facts)
        checks.append(check)
        return check.passed

    return Outcome(walk(tree), checks)
