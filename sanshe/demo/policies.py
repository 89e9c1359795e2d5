"""Demo policies, as the seed documents state them: seed 001_47f0e4c388d9ed24.txt (居家养老服务
补贴 (一)–(四), 就高不就低; 家庭养老床位护理补贴, not with the disability nursing subsidy) and seed
003_b40796f4d6b594f8.txt (医疗开支后实际收入低于3000元/月). The current month is computed."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.utils import timezone

from sanshe.accounts.models import Region, RegionLevel, Role, User
from sanshe.eligibility import actions, authoring
from sanshe.eligibility.models import BenefitKind, Fund, Policy, PolicyStatus

AGED_60 = {"field": "age", "op": "gte", "value": 60}
CANNOT_CARE = {"field": "capability_level", "op": "gte", "value": 2}
DIBAO = {"field": "economic_status", "op": "eq", "value": "dibao"}

POLICIES: list[dict[str, Any]] = [
    {"code": "home_care_dibao_dependent", "name": "居家养老服务补贴（一）低保且生活不能自理", "amount": "1000",
     "group": "home_care_subsidy", "condition": {"all": [AGED_60, DIBAO, CANNOT_CARE]}},
    {"code": "home_care_dependent", "name": "居家养老服务补贴（二）非低保生活不能自理", "amount": "800",
     "group": "home_care_subsidy", "condition": {"all": [AGED_60, {"not": DIBAO}, CANNOT_CARE]}},
    {"code": "home_care_assisted", "name": "居家养老服务补贴（三）三无、低保、重点优抚", "amount": "600",
     "group": "home_care_subsidy", "condition": {"all": [AGED_60, {"any": [
         {"field": "economic_status", "op": "in", "value": ["three_no", "dibao"]},
         {"field": "entitled_group", "op": "is_true"}]}]}},
    {"code": "home_care_aged_80", "name": "居家养老服务补贴（四）80岁以上", "amount": "500",
     "group": "home_care_subsidy", "condition": {"field": "age", "op": "gte", "value": 80}},
    {"code": "disability_nursing", "name": "困难残疾人护理补贴", "amount": "200", "group": "",
     "kind": BenefitKind.MONTHLY_SUBSIDY, "fund": "disability",
     "condition": {"field": "disability_grade", "op": "lte", "value": 2}},
    {"code": "home_bed_nursing", "name": "家庭养老床位护理补贴（全失能）", "amount": "1200", "group": "home_bed_nursing",
     "kind": BenefitKind.MONTHLY_SUBSIDY, "excludes": ["disability_nursing"],
     "condition": {"all": [{"field": "economic_status", "op": "in", "value": ["dibao", "tekun", "three_no"]},
                           {"field": "capability_level", "op": "gte", "value": 4}]}},
    {"code": "low_net_income", "name": "医疗开支后低收入老人居家养老服务", "amount": "300", "group": "",
     "condition": {"all": [AGED_60, {"field": "income_after_medical", "op": "lt", "value": 3000}]}},
]


def generate_policies() -> int:
    """Create the demo policies and compute this month; returns the number of entitlements."""
    district = Region.objects.filter(level=RegionLevel.DISTRICT).order_by("pk").first()
    officer = User.objects.filter(memberships__role=Role.DISTRICT_OFFICER).order_by("pk").first()
    if district is None or officer is None:
        return 0
    funds = {
        "welfare": Fund.objects.create(district=district, code="welfare", name="福利彩票公益金"),
        "disability": Fund.objects.create(district=district, code="disability", name="残疾人事业专项资金"),
    }
    for spec in POLICIES:
        policy = Policy.objects.create(
            district=district, code=spec["code"], name=spec["name"], legal_basis="青民〔2026〕12号（演示）",
            fund=funds[spec.get("fund", "welfare")], benefit_kind=spec.get("kind", BenefitKind.MONTHLY_QUOTA),
            exclusivity_group=spec["group"], excludes=spec.get("excludes", []), status=PolicyStatus.ACTIVE,
            created_by=officer,
        )
        authoring.add_version(policy, effective_from=dt.date(2026, 1, 1), condition=spec["condition"],
                            amount=Decimal(spec["amount"]), acting_user=officer)
    result = actions.run_month(district, timezone.localdate(), acting_user=officer)
    return result.granted
