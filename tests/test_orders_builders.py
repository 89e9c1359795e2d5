"""Builders shared by the care-plan and order tests: a fixed clock, an assessment, entitlements,
an active plan, an order in a given status, and a second provider with its own manager."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from django.utils import timezone

from sanshe.accounts.models import Organization, Role, User
from sanshe.assessments.models import Assessment, AssessmentReason, AssessmentStatus, CapabilityRecord
from sanshe.catalog.models import Contract, ContractItem, ContractStatus, Tier
from sanshe.eligibility.models import (
    Entitlement,
    EntitlementRun,
    EntitlementStatus,
    Policy,
    PolicyStatus,
    PolicyVersion,
    RunStatus,
)
from sanshe.orders import plans
from sanshe.orders.models import CarePlan, CarePlanItem, OrderEvent, OrderSource, OrderStatus, ServiceOrder, SignerRole
from sanshe.people.models import Person
from tests.factories import PASSWORD, make_user, signature_png
from tests.service_factories import ServiceWorld

SHANGHAI = ZoneInfo("Asia/Shanghai")
# A Monday: 2026-06-01. June 2026 has 30 days, starting on a Monday.
TODAY = dt.date(2026, 6, 1)


@pytest.fixture
def clock() -> Iterator[Any]:
    with time_machine.travel(dt.datetime(2026, 6, 1, 8, 0, tzinfo=SHANGHAI), tick=True) as traveller:
        yield traveller


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(day.year, day.month, day.day, hour, minute))


def assess(person: Person, level: int, *, by: User, valid_until: dt.date = dt.date(2027, 5, 31)) -> CapabilityRecord:
    assessment = Assessment.objects.create(
        person=person, number=f"PG2026{Assessment.objects.count() + 1:07d}", reason=AssessmentReason.FIRST,
        status=AssessmentStatus.PUBLISHED, requested_by=by, instrument_code="GB/T 42195-2022",
        instrument_version="2022.1", assessed_on=dt.date(2026, 5, 10), final_level=level,
        valid_from=dt.date(2026, 5, 10), valid_until=valid_until)
    return CapabilityRecord.objects.create(person=person, assessment=assessment, level=level,
                                           assessed_on=dt.date(2026, 5, 10), valid_until=valid_until)


def entitle(w: ServiceWorld, person: Person, *, quota: str | None = "600", tier: str | None = "low_cost",
            status: str = EntitlementStatus.ACTIVE, month: dt.date = dt.date(2026, 6, 1)) -> None:
    """Approved entitlements of the month: a monthly service quota and a service tier."""
    by = w.p.district_officer
    run = EntitlementRun.objects.create(district=w.d.district, month=month, status=RunStatus.DONE, started_by=by)

    def grant(code: str, name: str, kind: str, amount: str, parameters: dict[str, Any]) -> None:
        policy = Policy.objects.filter(code=code).first() or Policy.objects.create(
            district=w.d.district, code=code, name=name, legal_basis="青民发〔2026〕1号", fund=w.fund,
            benefit_kind=kind, status=PolicyStatus.ACTIVE, created_by=by)
        version = policy.versions.first() or PolicyVersion.objects.create(
            policy=policy, number=1, effective_from=dt.date(2026, 1, 1), amount=Decimal(amount),
            parameters=parameters, condition={"field": "age", "op": "gte", "value": 60}, created_by=by)
        Entitlement.objects.create(run=run, month=month, person=person, policy=policy, version=version,
                                   amount=Decimal(amount), payable=Decimal(amount), starts_on=month, change="new",
                                   status=status, reason={})

    if quota is not None:
        grant("care_quota", "居家养老服务补贴", "monthly_quota", quota, {})
    if tier is not None:
        params = {"tier": tier, "co_payment_rate": "0.2"} if tier == "low_cost" else {"tier": tier}
        grant(f"tier_{tier}", f"服务收费档次（{Tier(tier).label}）", "co_payment_tier", "0", params)


def sign_all(plan: CarePlan, w: ServiceWorld, *, elder_role: str = SignerRole.ELDER) -> CarePlan:
    png = signature_png()
    plans.sign_care_plan(plan, role=SignerRole.COMMUNITY, signer_name="赵助老", image=png,
                         acting_user=w.p.community_worker)
    plans.sign_care_plan(plan, role=SignerRole.PROVIDER, signer_name="陈站长", image=png, acting_user=w.manager)
    return plans.sign_care_plan(plan, role=elder_role, signer_name="钱老太", image=png,
                                acting_user=w.p.community_worker)


def active_plan(w: ServiceWorld, *, person: Person | None = None, weekdays: tuple[int, ...] = (1, 3, 5),
                starts_on: dt.date = TODAY) -> CarePlan:
    """A signed plan with one item: cleaning (hourly, 60 min) at 09:00–10:00 on the weekdays."""
    person = person or w.elder
    plan = CarePlan.objects.create(person=person, provider=w.d.provider, starts_on=starts_on,
                                   created_by=w.p.community_worker)
    CarePlanItem.objects.create(plan=plan, item=w.cleaning, tier=Tier.LOW_COST, weekdays=list(weekdays),
                                window_start=dt.time(9, 0), window_end=dt.time(10, 0), minutes=60)
    return sign_all(plan, w)


def make_order(w: ServiceWorld, *, status: str = OrderStatus.REQUESTED, person: Person | None = None,
               day: dt.date = TODAY, caregiver: Any = None, community: Any = None) -> ServiceOrder:
    """An order put straight into a status (the table itself is tested through transition_order)."""
    person = person or w.elder
    order = ServiceOrder.objects.create(
        person=person, item=w.cleaning, community=community or person.residence_region, provider=w.d.provider,
        caregiver=caregiver if caregiver is not None else (w.near if status != OrderStatus.REQUESTED else None),
        source=OrderSource.COMMUNITY, window_start=at(day, 9), window_end=at(day, 10), minutes=60,
        address=person.address, status=status)
    OrderEvent.objects.create(order=order, from_status=OrderStatus.REQUESTED, to_status=status, actor_name="测试")
    return order


def second_provider(w: ServiceWorld) -> tuple[Organization, User]:
    """The other provider under contract for street A too, with its own manager."""
    other = w.other_provider
    contract = Contract.objects.create(
        district=w.d.district, provider=other, number="QX-2026-009", title="桂花家政助洁", fund=w.fund,
        starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2027, 12, 31), status=ContractStatus.ACTIVE,
        created_by=w.p.district_officer)
    contract.service_area.add(w.d.street_a)
    ContractItem.objects.create(contract=contract, item=w.cleaning, price=Decimal("40.00"))
    return other, make_user("otherboss", other, Role.PROVIDER_MANAGER, full_name="孙经理")


def api_client(user: User) -> Client:
    """A client holding a bearer token obtained the way any API client gets one."""
    response = Client().post("/api/v1/auth/token", {"username": user.username, "password": PASSWORD},
                             content_type="application/json")
    assert response.status_code == 200, response.content
    return Client(headers={"Authorization": f"Bearer {response.json()['token']}"})
