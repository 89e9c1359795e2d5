"""Demo policies, as the seed documents state them, and their months computed, approved and published.

Seed 001_47f0e4c388d9ed24.txt: 居家养老服务补贴 (一) 1000, (二) 800, (三) 600, (四) 500 元/月,
就高不就低; 服务券 一档 500 / 二档 300 元/年 for the four groups of elders who apply, 一档 for
一、二级残疾 or 完全不能自理; 家庭养老床位护理补贴 全失能 1200 / 半失能 1000 元/月 for 本区户籍政府兜底
保障对象, not with the 残疾人护理补贴. Seed 003_b40796f4d6b594f8.txt: 医疗开支后实际收入低于3000元/月.
Service tiers (免费 / 低偿) for pricing services.

Last month is approved by the community, the street and the district, its public notice is over
and it is in force; this month is approved and on public notice; a few applications for the
service voucher wait at the demo community's desk.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from sanshe.accounts import actions as account_actions
from sanshe.accounts.models import Membership, Organization, OrganizationKind, Region, RegionLevel, Role, User
from sanshe.demo import data
from sanshe.eligibility import actions, approvals, authoring
from sanshe.eligibility.engine import previous_month
from sanshe.eligibility.individual import apply_for
from sanshe.eligibility.models import ApprovalBatch, BatchStatus, BenefitKind, Fund, Policy, PolicyStatus
from sanshe.people.models import Person

AGED_60 = {"field": "age", "op": "gte", "value": 60}
AGED_80 = {"field": "age", "op": "gte", "value": 80}
CANNOT_CARE = {"field": "capability_level", "op": "gte", "value": 2}
DIBAO = {"field": "economic_status", "op": "eq", "value": "dibao"}
SAFETY_NET = {"field": "economic_status", "op": "in", "value": ["dibao", "tekun", "three_no"]}
LIVES_ALONE = {"field": "living_arrangement", "op": "eq", "value": "alone"}
# Seed 001 服务券: (1) 散居特困 60+; (2) 低保家庭中的重度残疾、独居、80 岁以上; (3) 80 岁以上独居.
VOUCHER_GROUPS = {"any": [
    {"all": [{"field": "economic_status", "op": "eq", "value": "tekun"}, AGED_60]},
    {"all": [DIBAO, {"any": [{"field": "disability_grade", "op": "lte", "value": 2}, LIVES_ALONE, AGED_80]}]},
    {"all": [AGED_80, LIVES_ALONE]},
]}
VOUCHER_FIRST_TIER = {"any": [{"field": "disability_grade", "op": "lte", "value": 2},
                              {"field": "capability_level", "op": "gte", "value": 4}]}
REGISTERED_HERE = {"field": "registered_region", "op": "within", "value": data.DISTRICT_CODE[:6]}
BASIS_001 = "青民〔2026〕12号 居家养老服务补贴实施办法（演示）"
BASIS_BED = "青民〔2026〕15号 家庭养老床位建设实施方案（演示）"
BASIS_003 = "青民〔2026〕18号 支出型困难老人居家养老服务（演示）"

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
     "group": "home_care_subsidy", "condition": AGED_80},
    {"code": "service_voucher_first", "name": "居家养老服务券（一档）", "amount": "500", "group": "service_voucher",
     "kind": BenefitKind.ANNUAL_VOUCHER, "proactive": False, "condition": {"all": [VOUCHER_GROUPS, VOUCHER_FIRST_TIER]}},
    {"code": "service_voucher_second", "name": "居家养老服务券（二档）", "amount": "300", "group": "service_voucher",
     "kind": BenefitKind.ANNUAL_VOUCHER, "proactive": False, "condition": VOUCHER_GROUPS},
    {"code": "disability_nursing", "name": "困难残疾人护理补贴", "amount": "200", "group": "",
     "kind": BenefitKind.MONTHLY_SUBSIDY, "fund": "disability", "basis": "青残联〔2026〕3号（演示）",
     "condition": {"field": "disability_grade", "op": "lte", "value": 2}},
    {"code": "home_bed_nursing", "name": "家庭养老床位护理补贴（全失能）", "amount": "1200", "group": "home_bed_nursing",
     "kind": BenefitKind.MONTHLY_SUBSIDY, "excludes": ["disability_nursing"], "fund": "home_bed", "basis": BASIS_BED,
     "condition": {"all": [REGISTERED_HERE, SAFETY_NET, {"field": "capability_level", "op": "gte", "value": 4}]}},
    {"code": "home_bed_nursing_half", "name": "家庭养老床位护理补贴（半失能）", "amount": "1000",
     "group": "home_bed_nursing", "kind": BenefitKind.MONTHLY_SUBSIDY, "excludes": ["disability_nursing"],
     "fund": "home_bed", "basis": BASIS_BED,
     "condition": {"all": [REGISTERED_HERE, SAFETY_NET, {"field": "capability_level", "op": "eq", "value": 3}]}},
    {"code": "low_net_income", "name": "医疗开支后低收入老人居家养老服务", "amount": "300", "group": "",
     "basis": BASIS_003, "condition": {"all": [AGED_60, {"field": "income_after_medical", "op": "lt", "value": 3000}]}},
    {"code": "tier_free", "name": "居家养老服务免费对象", "amount": "0", "group": "service_tier",
     "kind": BenefitKind.CO_PAYMENT_TIER, "parameters": {"tier": "free"}, "condition": {"all": [AGED_60, SAFETY_NET]}},
    {"code": "tier_low_cost", "name": "居家养老服务低偿对象（自付30%）", "amount": "0", "group": "service_tier",
     "kind": BenefitKind.CO_PAYMENT_TIER, "parameters": {"tier": "low_cost", "co_payment_rate": "0.3"},
     "condition": {"any": [AGED_80, {"all": [AGED_60, CANNOT_CARE]}]}},
]
FUNDS = {"welfare": "福利彩票公益金", "disability": "残疾人事业专项资金", "home_bed": "家庭养老床位专项资金"}


def create_policies(district: Region, officer: User) -> list[Policy]:
    funds = {code: Fund.objects.create(district=district, code=code, name=name) for code, name in FUNDS.items()}
    made = []
    for spec in POLICIES:
        policy = Policy.objects.create(
            district=district, code=spec["code"], name=spec["name"], legal_basis=spec.get("basis", BASIS_001),
            fund=funds[spec.get("fund", "welfare")], benefit_kind=spec.get("kind", BenefitKind.MONTHLY_QUOTA),
            exclusivity_group=spec["group"], excludes=spec.get("excludes", []), proactive=spec.get("proactive", True),
            status=PolicyStatus.ACTIVE, created_by=officer,
        )
        authoring.add_version(policy, effective_from=dt.date(2026, 1, 1), condition=spec["condition"],
                              amount=Decimal(spec["amount"]), acting_user=officer, parameters=spec.get("parameters"))
        made.append(policy)
    return made


def _staff(organization: Organization, role: str, serial: int) -> User:
    """The organisation's member of staff who signs its approval step (a random password nobody is
    told: not a demo login)."""
    existing = User.objects.filter(memberships__organization=organization, memberships__role=role).first()
    if existing is not None:
        return existing
    rng = random.Random(f"staff-{organization.pk}")
    name = rng.choice(data.SURNAMES)[0] + rng.choice(("晓燕", "建军", "丽华", "志强", "海燕", "伟东", "美玲", "国华"))
    user = account_actions.create_user(username=f"staff{serial:03d}", password=secrets.token_urlsafe(16),
                                       full_name=name, check_password=False)
    account_actions.add_membership(user, organization=organization, role=role)
    return user


def approvers(district: Region) -> dict[int, User]:
    """Region id → the person who approves there (the demo accounts where they sit, staff elsewhere)."""
    found: dict[int, User] = {}
    for m in Membership.objects.filter(role__in=(Role.ELDER_ASSISTANT, Role.STREET_OFFICER),
                                       user__username__startswith="demo_").select_related("organization"):
        found[m.organization.region_id] = m.user
    serial = 1
    for org in Organization.objects.filter(kind__in=(OrganizationKind.COMMUNITY_COMMITTEE,
                                                     OrganizationKind.STREET_OFFICE),
                                           region__code__startswith=district.prefix).order_by("region__code"):
        if org.region_id not in found:
            role = Role.ELDER_ASSISTANT if org.kind == OrganizationKind.COMMUNITY_COMMITTEE else Role.STREET_OFFICER
            found[org.region_id] = _staff(org, role, serial)
            serial += 1
    return found


def _approve_all(batches: list[ApprovalBatch], people: dict[int, User], director: User) -> None:
    for batch in batches:
        community = Region.objects.get(pk=batch.community_id)
        for user in (people[community.pk], people[community.parent_id or 0], director):
            approvals.approve(batch, acting_user=user, comment="经核实，符合条件")
            batch.refresh_from_db()


@transaction.atomic
def generate_policies(seed: int = 2026) -> int:
    """Create the demo policies, compute last month and this month, approve both, publish this
    month's notice and bring last month into force; returns this month's entitlements."""
    district = Region.objects.filter(level=RegionLevel.DISTRICT).order_by("pk").first()
    officer = User.objects.filter(username="demo_district").first()
    director = User.objects.filter(username="demo_director").first()
    if district is None or officer is None or director is None:
        return 0
    create_policies(district, officer)
    people = approvers(district)
    this_month = timezone.localdate().replace(day=1)
    last_month = previous_month(this_month)
    actions.run_month(district, last_month, acting_user=officer)
    batches = list(ApprovalBatch.objects.filter(run__month=last_month))
    _approve_all(batches, people, director)
    # Last month's notice ran in its first week; it is over and the month is in force.
    ApprovalBatch.objects.filter(run__month=last_month, status=BatchStatus.NOTICE).update(
        notice_starts=last_month + dt.timedelta(days=2), notice_ends=last_month + dt.timedelta(days=8))
    for batch in ApprovalBatch.objects.filter(run__month=last_month, status=BatchStatus.NOTICE):
        approvals.activate(batch, acting_user=director)
    # The district raised one standard from this month: its recipients' entitlements change and go
    # through approval and the public notice again.
    authoring.add_version(Policy.objects.get(code="low_net_income"), effective_from=this_month,
                          condition=next(p["condition"] for p in POLICIES if p["code"] == "low_net_income"), amount=Decimal("350"), acting_user=officer,
                          note="年度标准调整：每月300元提高到350元")
    result = actions.run_month(district, this_month, acting_user=officer)
    _approve_all(list(ApprovalBatch.objects.filter(run__month=this_month)), people, director)
    _voucher_applications(district, seed)
    return result.granted


def _voucher_applications(district: Region, seed: int) -> None:
    """Applications for the service voucher taken by the social worker in the demo community: the
    granted ones wait for the community's approval, the others were refused with the reason."""
    worker = User.objects.filter(username="demo_socialworker").first()
    policy = Policy.objects.filter(code="service_voucher_second").first()
    if worker is None or policy is None:
        return
    rng = random.Random(f"applications-{seed}")
    today = timezone.localdate()
    candidates = list(Person.objects.filter(residence_region__code=data.DEMO_COMMUNITY, status="active",
                                            birth_date__lte=today - dt.timedelta(days=60 * 366)).order_by("pk")[:200])
    for person in rng.sample(candidates, min(6, len(candidates))):
        apply_for(person, policy, applicant=rng.choice(["本人", "子女代为申请", "社区代办"]), applied_on=today,
                  acting_user=worker)
