"""Who may read and write the catalogue, providers and staff: the district officer manages all; the
provider's manager manages their own facilities and caregivers and reads their own contracts;
another provider's manager, a community worker, a caregiver and an outsider get 404 on provider
data (403 where a page is not theirs at all). Every denied write leaves everything as it was."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from sanshe.accounts.models import Organization, OrganizationKind, Region, RegionLevel, Role, User
from sanshe.catalog.models import Caregiver, Contract, Facility, ServiceItem, ServiceSettings
from sanshe.core.models import AuditAction, AuditEvent
from tests.factories import client_for, make_user
from tests.service_factories import ServiceWorld

pytestmark = pytest.mark.django_db

PERSONAS = ["district_officer", "manager", "other_manager", "community_worker", "caregiver", "outsider"]
# persona: (items list, provider page, contract page, caregiver page, expiry page)
READS: dict[str, tuple[int, int, int, int, int]] = {
    "district_officer": (200, 200, 200, 200, 200),
    "manager": (200, 200, 200, 200, 200),
    "other_manager": (200, 404, 404, 404, 200),
    "community_worker": (200, 404, 404, 404, 403),
    "caregiver": (403, 404, 404, 404, 403),
    "outsider": (403, 404, 404, 404, 403),
}
# persona: (leave a caregiver, close a station, add an item, terminate a contract, change settings)
WRITES: dict[str, tuple[int, int, int, int, int]] = {
    "district_officer": (302, 302, 302, 302, 302),
    "manager": (302, 302, 403, 403, 403),
    "other_manager": (404, 404, 403, 404, 403),
    "community_worker": (404, 404, 403, 404, 403),
    "caregiver": (404, 404, 403, 404, 403),
    "outsider": (404, 404, 403, 404, 403),
}


def persona(world: ServiceWorld, name: str) -> User:
    if name == "manager":
        return world.manager
    if name == "other_manager":
        return make_user("otherboss", world.other_provider, Role.PROVIDER_MANAGER)
    found: User = getattr(world.p, name)
    return found


def snapshot(world: ServiceWorld) -> dict[str, Any]:
    return {
        "caregivers": list(Caregiver.objects.order_by("pk").values_list("pk", "is_active")),
        "facilities": list(Facility.objects.order_by("pk").values_list("pk", "is_active")),
        "items": ServiceItem.objects.count(),
        "contracts": list(Contract.objects.order_by("pk").values_list("pk", "status")),
        "settings": ServiceSettings.objects.filter(geofence_metres=300).count(),
        "audit": AuditEvent.objects.filter(action=AuditAction.MANAGE_CATALOG).count(),
    }


@pytest.mark.parametrize("name", PERSONAS)
def test_who_reads_what(world: ServiceWorld, name: str) -> None:
    c = client_for(persona(world, name))
    got = (
        c.get("/catalog/items/").status_code,
        c.get(f"/catalog/providers/{world.d.provider.pk}/").status_code,
        c.get(f"/catalog/contracts/{world.contract.pk}/").status_code,
        c.get(f"/catalog/caregivers/{world.near.pk}/").status_code,
        c.get("/catalog/expiring/").status_code,
    )
    assert got == READS[name]


def _writes(c: Client, world: ServiceWorld) -> tuple[int, ...]:
    return (
        c.post(f"/catalog/caregivers/{world.near.pk}/active/", {"active": "0"}).status_code,
        c.post(f"/catalog/facilities/{world.station.pk}/active/", {"active": "0"}).status_code,
        c.post("/catalog/items/new/", {"code": "NEW01", "name": "新项目", "category": "meal", "unit": "meal",
                                       "standard_minutes": "10"}).status_code,
        c.post(f"/catalog/contracts/{world.contract.pk}/status/",
               {"status": "terminated", "reason": "测试"}).status_code,
        c.post("/catalog/settings/", {"town_circle_minutes": "15", "country_circle_minutes": "30",
                                      "geofence_metres": "300", "detour_factor": "1.3", "walk_kmh": "4.5",
                                      "bicycle_kmh": "12", "ebike_kmh": "18", "car_kmh": "25",
                                      "late_after_minutes": "30", "short_visit_percent": "50",
                                      "expiry_warning_days": "30"}).status_code,
    )


@pytest.mark.parametrize("name", PERSONAS)
def test_who_writes_what_and_a_denied_write_changes_nothing(world: ServiceWorld, name: str) -> None:
    user = persona(world, name)
    before = snapshot(world)
    got = _writes(client_for(user), world)
    assert got == WRITES[name]
    after = snapshot(world)
    allowed = [code == 302 for code in got]
    assert (after["caregivers"] != before["caregivers"]) == allowed[0]
    assert (after["facilities"] != before["facilities"]) == allowed[1]
    assert (after["items"] != before["items"]) == allowed[2]
    assert (after["contracts"] != before["contracts"]) == allowed[3]
    assert (after["settings"] != before["settings"]) == allowed[4]
    assert after["audit"] - before["audit"] == sum(allowed)


def test_the_provider_manager_sees_only_their_own_provider_and_contracts(world: ServiceWorld) -> None:
    c = client_for(world.manager)
    page = c.get(f"/catalog/providers/{world.d.provider.pk}/").content.decode()
    assert "新建护理员" in page
    assert "/licences/new/" not in page
    assert "新建合同" not in page
    assert c.get(f"/catalog/providers/{world.other_provider.pk}/").status_code == 404
    contracts = c.get("/catalog/contracts/").content.decode()
    assert world.contract.title in contracts
    assert "新建合同" not in contracts
    assert c.get(f"/catalog/contracts/{world.contract.pk}/edit/").status_code == 403
    assert c.get(f"/catalog/providers/{world.d.provider.pk}/licences/new/").status_code == 403


def test_a_district_officer_of_another_district_sees_nothing_here(world: ServiceWorld) -> None:
    elsewhere = Region.objects.create(code="330200000000", name="邻区", level=RegionLevel.DISTRICT)
    bureau = Organization.objects.create(name="邻区民政局", kind=OrganizationKind.CIVIL_AFFAIRS_BUREAU, region=elsewhere)
    c = client_for(make_user("neighbourofficer", bureau, Role.DISTRICT_OFFICER))
    assert c.get(f"/catalog/items/{world.meal.pk}/").status_code == 404
    assert c.get(f"/catalog/providers/{world.d.provider.pk}/").status_code == 404
    assert c.get(f"/catalog/caregivers/{world.near.pk}/edit/").status_code == 404
    assert c.post(f"/catalog/items/{world.meal.pk}/active/", {"active": "0"}).status_code == 404
    world.meal.refresh_from_db()
    assert world.meal.is_active
