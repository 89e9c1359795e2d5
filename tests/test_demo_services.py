"""The demo district's services: catalogue, contracts, caregivers, signed plans, beds and two
months of history with the flagged records a real district sees."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.utils import timezone

from sanshe.catalog.models import Caregiver, Contract, PriceList, ServiceItem
from sanshe.catalog.queries import unqualified_reason
from sanshe.orders.models import (
    CarePlan,
    CarePlanStatus,
    HomeCareBed,
    OrderStatus,
    ReviewStatus,
    ServiceOrder,
    ServiceRecord,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo(settings: Any, tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path
    settings.DEMO_MODE = True
    call_command("generate_demo", people=800, force=True, stdout=io.StringIO())


def test_the_catalogue_has_two_price_lists_and_every_provider_a_contract(demo: None) -> None:
    assert ServiceItem.objects.count() == 14
    assert PriceList.objects.count() == 2
    assert Contract.objects.values("provider").distinct().count() == 3


def test_every_active_plan_is_signed_by_community_provider_and_elder(demo: None) -> None:
    plans = CarePlan.objects.filter(status=CarePlanStatus.ACTIVE)
    assert plans.count() >= 30
    for plan in plans:
        assert set(plan.signatures.values_list("role", flat=True)) == {"community", "provider", "elder"}
        assert plan.items.exists()


def test_history_covers_last_month_with_confirmed_records_and_open_orders_ahead(demo: None) -> None:
    today = timezone.localdate()
    first = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
    assert ServiceOrder.objects.filter(window_start__date=first).exists()
    assert ServiceRecord.objects.filter(order__status=OrderStatus.CONFIRMED).count() > 500
    assert ServiceOrder.objects.filter(window_start__date=today + dt.timedelta(days=1)).exists()
    # Every visit happened where and when its record says: events follow the status table.
    record = ServiceRecord.objects.filter(order__status=OrderStatus.CONFIRMED).first()
    assert record is not None
    steps = list(record.order.events.values_list("to_status", flat=True))
    assert steps[-3:] == [OrderStatus.IN_SERVICE, OrderStatus.DONE, OrderStatus.CONFIRMED]


def test_flagged_records_wait_for_review_and_are_never_confirmed_silently(demo: None) -> None:
    flagged = ServiceRecord.objects.exclude(flags=[])
    kinds = {flag for record in flagged for flag in record.flags}
    assert {"outside_geofence", "short", "overlap", "after_death"} <= kinds
    for record in flagged:
        if record.review_status == ReviewStatus.PENDING:
            assert record.order.status == OrderStatus.DONE
            assert record.confirmation == ""
        else:
            assert record.review_status == ReviewStatus.CLEARED
            assert record.confirmation == "review"


def test_the_demo_caregiver_has_a_day_and_the_expired_certificate_bites(demo: None) -> None:
    caregiver = Caregiver.objects.get(user__username="demo_caregiver")
    assert caregiver.orders.exists()
    bath = ServiceItem.objects.get(code="ZY01")
    expired = [c for c in Caregiver.objects.all() if "已于" in unqualified_reason(c, bath, timezone.localdate())]
    assert len(expired) == 1


def test_home_care_beds_have_an_adaptation_devices_and_a_plan(demo: None) -> None:
    beds = HomeCareBed.objects.all()
    assert beds.exists()
    for bed in beds:
        assert bed.care_plan is not None
        assert bed.adaptations.exists()
        assert bed.devices.exists()
