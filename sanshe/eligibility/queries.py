"""Policy conditions against the database: the same tree as eligibility.rules, compiled to one
query for the whole population (the monthly run), and the facts of one person for explanations."""

from __future__ import annotations

import datetime as dt
import functools
from decimal import Decimal
from typing import Any

from django.db.models import DecimalField, ExpressionWrapper, F, Q, QuerySet, Value
from django.db.models.functions import Coalesce

from sanshe.assessments.models import CapabilityRecord
from sanshe.eligibility.benefits import describe
from sanshe.eligibility.models import Entitlement, Policy, PolicyStatus, PolicyVersion, RunStatus
from sanshe.eligibility.rules import FieldSpec, build_fields, evaluate
from sanshe.lib.dates import age_on, birth_date_bounds_for_age
from sanshe.people.codes import DisabilityCategory, EconomicStatus, LivingArrangement, PersonStatus, Sex
from sanshe.people.models import SPECIAL_GROUP_FIELDS, Person

LOOKUPS = {"eq": "exact", "lt": "lt", "lte": "lte", "gt": "gt", "gte": "gte"}
COLUMNS = {"disability_grade": "disability_grade", "monthly_income": "monthly_income",
           "income_after_medical": "income_after_medical", "capability_level": "capability__level"}


@functools.cache
def fields() -> dict[str, FieldSpec]:
    return build_fields({
        "sex": Sex.choices, "status": PersonStatus.choices, "economic_status": EconomicStatus.choices,
        "living_arrangement": LivingArrangement.choices, "disability_category": DisabilityCategory.choices,
        "special_groups": list(SPECIAL_GROUP_FIELDS.items()),
    })


def facts_for(person: Person, on: dt.date) -> dict[str, Any]:
    """The values a condition can test, for one person on a date."""
    try:
        record: CapabilityRecord | None = person.capability  # one query, or none with select_related
    except CapabilityRecord.DoesNotExist:
        record = None
    if record is not None and record.valid_until < on:
        record = None
    income = person.monthly_income
    facts: dict[str, Any] = {
        "age": age_on(person.birth_date, on), "sex": person.sex, "status": person.status,
        "economic_status": person.economic_status, "living_arrangement": person.living_arrangement,
        "capability_level": record.level if record else None, "disability_grade": person.disability_grade,
        "disability_category": person.disability_category or None,
        "residence_region": person.residence_region.code,
        "registered_region": person.registered_region.code if person.registered_region else None,
        "monthly_income": income,
        "income_after_medical": None if income is None else income - (person.monthly_medical_costs or Decimal(0)),
        "family_doctor_signed": person.family_doctor_signed,
    }
    facts.update({name: getattr(person, name) for name in SPECIAL_GROUP_FIELDS})
    return facts


def _age_q(op: str, value: Any, on: dt.date) -> Q:
    def band(low: int | None, high: int | None) -> Q:
        earliest, latest = birth_date_bounds_for_age(low, high, on)
        q = Q()
        if latest is not None:
            q &= Q(birth_date__lte=latest)
        if earliest is not None:
            q &= Q(birth_date__gte=earliest)
        return q

    if op == "between":
        return band(int(value[0]), int(value[1]))
    n = int(Decimal(str(value)))
    return {"eq": band(n, n), "ne": ~band(n, n), "gte": band(n, None), "gt": band(n + 1, None),
            "lte": band(None, n), "lt": band(None, n - 1)}[op]


def _number_q(column: str, op: str, value: Any) -> Q:
    present = Q(**{f"{column}__isnull": False})
    if op == "between":
        return present & Q(**{f"{column}__gte": value[0], f"{column}__lte": value[1]})
    if op == "ne":
        return present & ~Q(**{column: value})
    return Q(**{f"{column}__{LOOKUPS[op]}": value})


def to_q(tree: dict[str, Any], on: dt.date) -> Q:
    """The condition tree as a query over people (see with_facts for the columns it needs)."""
    if "all" in tree:
        q = Q()
        for child in tree["all"]:
            q &= to_q(child, on)
        return q
    if "any" in tree:
        q = Q(pk__in=[])
        for child in tree["any"]:
            q |= to_q(child, on)
        return q
    if "not" in tree:
        return ~to_q(tree["not"], on)
    field, op, value = tree["field"], tree["op"], tree.get("value")
    spec = fields()[field]
    if field == "age":
        return _age_q(op, value, on)
    if spec.kind == "bool":
        return Q(**{field: op == "is_true"})
    if spec.kind == "region":
        prefix = str(value).rstrip("0") if len(str(value)) == 12 else str(value)
        inside = Q(**{f"{field}__code__startswith": prefix})
        return inside if op == "within" else ~inside
    if spec.kind == "choice":
        values = [str(v) for v in (value if isinstance(value, list) else [value])]
        member = Q(**{f"{field}__in": values})
        return member if op in ("eq", "in") else ~member
    q = _number_q(COLUMNS[field], op, value)
    if field == "capability_level":
        q &= Q(capability__valid_until__gte=on)
    return q


def with_facts(qs: QuerySet[Person]) -> QuerySet[Person]:
    """Add the computed columns conditions may test."""
    money = DecimalField(max_digits=12, decimal_places=2)
    return qs.annotate(income_after_medical=ExpressionWrapper(
        F("monthly_income") - Coalesce(F("monthly_medical_costs"), Value(Decimal(0)), output_field=money),
        output_field=money))


def people_matching(tree: dict[str, Any], on: dt.date, qs: QuerySet[Person] | None = None) -> QuerySet[Person]:
    base = with_facts(qs if qs is not None else Person.objects.all())
    return base.filter(to_q(tree, on))


def explain_person(person: Person, on: dt.date) -> list[dict[str, Any]]:
    """Every active policy of the person's district for one person: the entitlement of the latest
    computed month with its reason and status, or — for a policy not received — the first condition
    that failed (or why it ended)."""
    latest = (Entitlement.objects.filter(person=person, run__status=RunStatus.DONE).order_by("-month")
              .values_list("month", flat=True).first())
    rows_of_month = list(Entitlement.objects.filter(person=person, month=latest).select_related("version")
                         .order_by("starts_on", "pk")) if latest else []
    standing = {e.policy_id: e for e in rows_of_month
                if e.status in ("pending", "notice", "active") and e.ended_on is None}
    ended = {e.policy_id: e for e in rows_of_month if e.ended_on is not None}
    facts = facts_for(person, on)
    rows = []
    region_code = person.residence_region.code
    policies = [p for p in Policy.objects.filter(status=PolicyStatus.ACTIVE).select_related("fund", "district")
                .order_by("id") if region_code.startswith(p.district.prefix)]
    in_force: dict[int, PolicyVersion] = {}
    for v in PolicyVersion.objects.filter(policy__in=policies, effective_from__lte=on).order_by("effective_from"):
        in_force[v.policy_id] = v  # the last one in date order is the version in force on `on`
    for policy in policies:
        version = in_force.get(policy.pk)
        if version is None:
            continue
        e = standing.get(policy.pk)
        row: dict[str, Any] = {"policy": policy, "month": latest, "entitlement": e, "reasons": [], "failure": ""}
        if e is not None:
            rows.append(row | {"granted": True, "amount": e.amount, "payable": e.payable, "status": e.status,
                               "status_label": e.get_status_display(),
                               "benefit": describe(policy.benefit_kind, e.amount, e.version.parameters),
                               "reasons": reason_checks(e.version.condition, e.reason)})
            continue
        outcome = evaluate(version.condition, facts, fields())
        failure = outcome.first_failure
        if outcome.passed:
            failure = ("符合条件，须本人或代办人申请" if not policy.proactive else
                       "符合条件，但同组内已享受更高待遇或与已享受的待遇不能同时享受")
        gone = ended.get(policy.pk)
        if gone is not None and gone.ended_on is not None:
            failure = f"自 {gone.ended_on:%Y-%m-%d} 起终止：{gone.end_reason}"
        rows.append(row | {"granted": False, "amount": version.amount, "payable": None, "status": "",
                           "status_label": "", "benefit": describe(policy.benefit_kind, version.amount,
                                                                  version.parameters), "failure": failure})
    return rows


def leaf_fields(tree: dict[str, Any]) -> list[str]:
    """The fields a tree tests, in order, once each."""
    found: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        for key in ("all", "any"):
            if key in node:
                for child in node[key]:
                    walk(child)
                return
        if "not" in node:
            walk(node["not"])
        elif node["field"] not in found:
            found.append(node["field"])

    walk(tree)
    return found


# Where each field's value comes from in a people query (see with_facts for income_after_medical).
FACT_COLUMNS = {"age": ("birth_date",), "capability_level": ("capability__level", "capability__valid_until"),
                "residence_region": ("residence_region__code",), "registered_region": ("registered_region__code",)}


def fact_columns(names: list[str]) -> list[str]:
    return [column for name in names for column in FACT_COLUMNS.get(name, (name,))]


def facts_from_row(names: list[str], row: tuple[Any, ...], on: dt.date) -> dict[str, Any]:
    """The facts of `names` from the columns fact_columns(names) returned, as facts_for gives them."""
    facts: dict[str, Any] = {}
    i = 0
    for name in names:
        if name == "age":
            facts[name] = age_on(row[i], on)
        elif name == "capability_level":
            level, valid_until = row[i], row[i + 1]
            facts[name] = level if valid_until is not None and valid_until >= on else None
        else:
            value = row[i]
            facts[name] = value if value != "" else None
        i += len(FACT_COLUMNS.get(name, (name,)))
    return facts


def jsonable(facts: dict[str, Any]) -> dict[str, Any]:
    """Facts as JSON: money as exact strings."""
    return {k: str(v) if isinstance(v, Decimal) else v for k, v in facts.items()}


def reason_checks(condition: dict[str, Any], reason: dict[str, Any]) -> list[str]:
    """The conditions an entitlement met, with the person's values, from the values kept in its
    reason (entitlements written before values were kept carry the texts themselves)."""
    if "values" not in reason:
        return list(reason.get("checks", []))
    facts = {k: Decimal(v) if fields()[k].kind == "money" and v is not None else v
             for k, v in reason["values"].items() if k in fields()}
    return [c.text for c in evaluate(condition, facts, fields()).checks if c.passed]
