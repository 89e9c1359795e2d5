"""Care plans: drafted from the assessment and entitlements, edited as drafts, signed by three
parties, activated and superseded, revised, ended, priced against the quota, compared with what
was delivered, and printed."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from sanshe.catalog.models import Tier
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction, AuditEvent
from sanshe.orders import plans
from sanshe.orders.models import (
    CarePlan,
    CarePlanItem,
    CarePlanSignature,
    CarePlanStatus,
    OrderStatus,
    ServiceOrder,
    ServiceRecord,
    SignerRole,
)
from sanshe.people.models import Person
from tests.factories import client_for, make_person, signature_png
from tests.service_factories import ServiceWorld
from tests.test_orders_builders import (
    TODAY,
    active_plan,
    api_client,
    assess,
    at,
    clock,
    entitle,
    make_order,
    second_provider,
)

pytestmark = pytest.mark.django_db
__all__ = ["clock"]
T = dt.time


def _draft(w: ServiceWorld, person: Person | None = None) -> CarePlan:
    return plans.draft_care_plan(person or w.elder, w.d.provider, acting_user=w.p.community_worker)


# --- drafting ----------------------------------------------------------------------------------


def test_a_draft_follows_the_capability_level_and_the_entitled_tier(world: ServiceWorld, clock: object) -> None:
    assess(world.elder, 2, by=world.p.district_officer)
    entitle(world, world.elder, quota="600", tier="low_cost")
    plan = _draft(world)
    items = {i.item.code: i for i in plan.items.select_related("item")}
    assert set(items) == {"MEAL01", "CLEAN01", "BATH01"}  # moderate: meals daily, cleaning twice, a bath weekly
    assert items["MEAL01"].weekdays == [1, 2, 3, 4, 5, 6, 7]
    assert items["CLEAN01"].weekdays == [2, 5]
    assert {i.tier for i in items.values()} == {Tier.LOW_COST}
    assert plan.status == CarePlanStatus.DRAFT
    assert plan.version == 1
    assert plan.assessment is not None
    assert "2级" in plan.needs
    assert {e["policy"] for e in plan.entitlements} == {"care_quota", "tier_low_cost"}
    assert AuditEvent.objects.filter(action=AuditAction.MANAGE_CARE_PLAN, person_id=world.elder.pk).exists()


def test_a_draft_without_a_valid_assessment_starts_from_meals_and_is_paid(world: ServiceWorld, clock: object) -> None:
    assess(world.elder, 4, by=world.p.district_officer, valid_until=dt.date(2026, 5, 31))  # expired yesterday
    plan = _draft(world)
    assert [(i.item.code, i.tier) for i in plan.items.select_related("item")] == [("MEAL01", Tier.PAID)]
    assert plan.assessment is None
    assert "尚无有效的能力评估" in plan.needs


def test_services_the_provider_is_not_contracted_for_are_left_out(world: ServiceWorld, clock: object) -> None:
    assess(world.elder, 3, by=world.p.district_officer)  # suggests rehabilitation, which no contract covers
    plan = _draft(world)
    assert "rehabilitation" not in {i.item.category for i in plan.items.select_related("item")}
    assert plan.items.count() == 3


@pytest.mark.parametrize("case", ["no_contract", "second_draft", "active_exists", "deceased"])
def test_a_draft_is_refused_with_a_reason_and_nothing_is_written(world: ServiceWorld, clock: object,
                                                                  case: str) -> None:
    provider = world.d.provider
    person = world.elder
    if case == "no_contract":
        provider = world.other_provider
    elif case == "second_draft":
        _draft(world)
    elif case == "active_exists":
        active_plan(world)
    else:
        Person.objects.filter(pk=person.pk).update(status="deceased")
        person.refresh_from_db()
    before = (CarePlan.objects.count(), CarePlanItem.objects.count())
    with pytest.raises(UserError) as caught:
        plans.draft_care_plan(person, provider, acting_user=world.p.community_worker)
    assert re.search(r"[\u4e00-\u9fff]", caught.value.message)
    assert (CarePlan.objects.count(), CarePlanItem.objects.count()) == before


# --- editing a draft ----------------------------------------------------------------------------


def _add(plan: CarePlan, w: ServiceWorld, **changes: object) -> CarePlanItem:
    values: dict[str, object] = {"item": w.bath, "tier": Tier.FREE, "weekdays": [2], "window_start": T(14),
                                 "window_end": T(15), "minutes": 60, "preferred_caregiver": w.certified}
    values.update(changes)
    return plans.add_plan_item(plan, acting_user=w.p.community_worker, **values)  # type: ignore[arg-type]


def test_a_preferred_caregiver_must_be_qualified_and_the_providers(world: ServiceWorld, clock: object) -> None:
    plan = _draft(world)
    row = _add(plan, world)
    assert row.preferred_caregiver == world.certified
    other, _ = second_provider(world)
    from tests.service_factories import BASE_LAT, BASE_LON, make_caregiver

    outsider = make_caregiver(other, "外机构护理员", lat=BASE_LAT, lon=BASE_LON)
    count = plan.items.count()
    for caregiver, message in ((world.near, "没有“养老护理员职业技能等级证书”"), (outsider, "不属于")):
        with pytest.raises(UserError) as caught:
            _add(plan, world, preferred_caregiver=caregiver)
        assert message in caught.value.message
    assert plan.items.count() == count


@pytest.mark.parametrize(("changes", "field"), [
    ({"weekdays": []}, "weekdays"), ({"weekdays": [8]}, "weekdays"), ({"window_end": T(13)}, "window_end"),
    ({"minutes": 2}, "minutes"), ({"tier": "vip"}, "tier"),
])
def test_bad_plan_items_are_refused(world: ServiceWorld, clock: object, changes: dict[str, object],
                                    field: str) -> None:
    plan = _draft(world)
    count = plan.items.count()
    with pytest.raises(UserError) as caught:
        _add(plan, world, **changes)
    assert caught.value.field == field
    assert plan.items.count() == count


def test_an_item_outside_the_providers_contract_is_refused(world: ServiceWorld, clock: object) -> None:
    other, boss = second_provider(world)  # contracted for cleaning only
    plan = plans.draft_care_plan(world.elder, other, acting_user=world.p.community_worker)
    with pytest.raises(UserError, match="没有承接"):
        plans.add_plan_item(plan, item=world.meal, tier=Tier.PAID, weekdays=[1], window_start=T(11),
                            window_end=T(12), minutes=20, acting_user=boss)


def test_changing_a_draft_voids_its_signatures(world: ServiceWorld, clock: object) -> None:
    plan = _draft(world)
    plans.sign_care_plan(plan, role=SignerRole.COMMUNITY, signer_name="赵助老", image=signature_png(),
                         acting_user=world.p.community_worker)
    assert plan.signatures.count() == 1
    _add(plan, world)
    assert plan.signatures.count() == 0


# --- signing ------------------------------------------------------------------------------------


def test_three_parties_sign_and_the_plan_takes_effect(world: ServiceWorld, clock: object) -> None:
    plan = _draft(world)
    png = signature_png()
    plans.sign_care_plan(plan, role=SignerRole.COMMUNITY, signer_name="赵助老", image=png,
                         acting_user=world.p.community_worker)
    plans.sign_care_plan(plan, role=SignerRole.PROVIDER, signer_name="陈站长", image=png, acting_user=world.manager)
    assert CarePlan.objects.get(pk=plan.pk).status == CarePlanStatus.DRAFT
    # The guardian's signature, recorded by the provider's manager on the tablet, completes it.
    done = plans.sign_care_plan(plan, role=SignerRole.GUARDIAN, signer_name="钱小明", image=png,
                                acting_user=world.manager)
    assert done.status == CarePlanStatus.ACTIVE
    assert done.activated_at is not None
    with pytest.raises(UserError):
        plans.add_plan_item(done, item=world.meal, tier=Tier.PAID, weekdays=[1], window_start=T(11),
                            window_end=T(12), minutes=20, acting_user=world.p.community_worker)


@pytest.mark.parametrize(("who", "role"), [
    ("community_worker", SignerRole.PROVIDER),  # a community worker cannot sign for the provider
    ("manager", SignerRole.COMMUNITY),  # nor the provider for the community
    ("neighbour_worker", SignerRole.COMMUNITY),  # a worker of another community
    ("outsider", SignerRole.ELDER),
])
def test_a_party_signs_only_for_itself(world: ServiceWorld, clock: object, who: str, role: str) -> None:
    plan = _draft(world)
    user = world.manager if who == "manager" else getattr(world.p, who)
    with pytest.raises(PermissionDenied):
        plans.sign_care_plan(plan, role=role, signer_name="某人", image=signature_png(), acting_user=user)
    assert not CarePlanSignature.objects.exists()


def test_a_signature_must_be_a_drawing(world: ServiceWorld, clock: object) -> None:
    plan = _draft(world)
    with pytest.raises(UserError, match="签名图像无效"):
        plans.sign_care_plan(plan, role=SignerRole.COMMUNITY, signer_name="赵助老", image="data:image/png;base64,xx",
                             acting_user=world.p.community_worker)
    assert not plan.signatures.exists()


# --- versions and ending ------------------------------------------------------------------------


def test_revising_makes_a_new_version_and_signing_it_supersedes_the_old(world: ServiceWorld, clock: object) -> None:
    from tests.test_orders_builders import sign_all

    v1 = active_plan(world)
    later = make_order(world, day=TODAY + dt.timedelta(days=9))
    later.plan_item = v1.items.get()
    later.save()
    v2 = plans.revise_care_plan(v1, acting_user=world.manager)
    assert (v2.version, v2.previous_id, v2.status) == (2, v1.pk, CarePlanStatus.DRAFT)
    assert v2.items.count() == 1
    assert v2.items.get().weekdays == [1, 3, 5]
    with pytest.raises(UserError, match="已有待签署的修改草稿"):
        plans.revise_care_plan(v1, acting_user=world.manager)
    v1.refresh_from_db()
    assert v1.status == CarePlanStatus.ACTIVE  # the signed plan runs until the new one is signed
    sign_all(v2, world)
    v1.refresh_from_db()
    assert v1.status == CarePlanStatus.SUPERSEDED
    later.refresh_from_db()
    assert later.status == OrderStatus.CANCELLED
    assert "第2版" in later.events.last().reason  # type: ignore[union-attr]


def test_ending_a_plan_needs_a_reason_and_cancels_what_has_not_started(world: ServiceWorld, clock: object) -> None:
    plan = active_plan(world)
    item = plan.items.get()
    today = make_order(world, status=OrderStatus.IN_SERVICE)
    tomorrow = make_order(world, day=TODAY + dt.timedelta(days=1), status=OrderStatus.ASSIGNED)
    ServiceOrder.objects.filter(pk__in=[today.pk, tomorrow.pk]).update(plan_item=item)
    with pytest.raises(UserError, match="终止原因"):
        plans.end_care_plan(plan, reason=" ", acting_user=world.p.community_worker)
    assert CarePlan.objects.get(pk=plan.pk).status == CarePlanStatus.ACTIVE
    plans.end_care_plan(plan, reason="入住养老机构", acting_user=world.p.community_worker)
    plan.refresh_from_db()
    assert (plan.status, plan.ends_on, plan.ended_reason) == (CarePlanStatus.ENDED, TODAY, "入住养老机构")
    assert ServiceOrder.objects.get(pk=tomorrow.pk).status == OrderStatus.CANCELLED
    assert ServiceOrder.objects.get(pk=today.pk).status == OrderStatus.IN_SERVICE


# --- the month: cost against the quota, planned vs delivered ------------------------------------


def test_the_plan_page_warns_when_the_month_costs_more_than_the_quota(world: ServiceWorld, clock: object) -> None:
    entitle(world, world.elder, quota="100", tier="free")
    plan = _draft(world)  # meals on workdays, free: the fund pays 15 × 22 = 330 in June
    page = client_for(world.p.community_worker).get(f"/orders/plans/{plan.pk}/?month=2026-06")
    html = page.content.decode()
    assert page.status_code == 200
    assert 'id="quota-warning"' in html
    assert "230.00" in html
    rows, cost = plans.plan_month(plan, 2026, 6)
    assert (rows[0].visits, cost.fund, cost.elder, cost.quota) == (22, Decimal("330.00"), Decimal("0.00"),
                                                                   Decimal("100.00"))


def test_the_plan_page_shows_planned_against_delivered(world: ServiceWorld, clock: object) -> None:
    plan = active_plan(world)  # cleaning Mon/Wed/Fri: 13 visits in June
    item = plan.items.get()
    statuses = [OrderStatus.CONFIRMED, OrderStatus.DONE, OrderStatus.NO_SHOW, OrderStatus.CANCELLED,
                OrderStatus.REQUESTED]
    for n, status in enumerate(statuses):
        order = make_order(world, status=status, day=TODAY + dt.timedelta(days=2 * n))
        order.plan_item = item
        order.save()
        if status == OrderStatus.CONFIRMED:
            ServiceRecord.objects.create(order=order, person=world.elder, caregiver=world.near, item=world.cleaning,
                                         provider=world.d.provider, service_date=TODAY, address="x",
                                         check_in_at=at(TODAY, 9, 5), check_out_at=at(TODAY, 9, 55))
    rows, _ = plans.plan_month(plan, 2026, 6)
    t = rows[0].tally
    assert (rows[0].visits, t.generated, t.delivered, t.missed, t.cancelled) == (13, 5, 2, 1, 1)
    assert (t.minutes_planned, t.minutes_delivered) == (780, 110)  # 50 measured + 60 of the unrecorded one
    api = api_client(world.p.community_worker).get(f"/api/v1/care-plans/{plan.pk}?month=2026-06")
    body = api.json()
    assert body["items"][0]["delivered"] == 2
    assert body["items"][0]["minutes_delivered"] == 110


# --- printing -----------------------------------------------------------------------------------


def test_the_agreement_prints_with_signatures_and_is_audited(world: ServiceWorld, clock: object) -> None:
    plan = active_plan(world)
    response = client_for(world.manager).get(f"/orders/plans/{plan.pk}/agreement.pdf")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-")
    assert b"/Subtype /Image" in response.content  # the drawn signatures (one image, reused)
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT_SERVICES, person_id=world.elder.pk).exists()


def test_the_agreement_printed_with_a_new_link_carries_its_qr_code(world: ServiceWorld, clock: object) -> None:
    plan = active_plan(world)
    c = client_for(world.p.community_worker)
    page = c.post(f"/orders/person/{world.elder.pk}/link/")
    token = re.search(r'name="token" value="([^"]+)"', page.content.decode())
    assert token is not None
    plain = c.get(f"/orders/plans/{plan.pk}/agreement.pdf").content
    with_qr = c.post(f"/orders/plans/{plan.pk}/agreement.pdf", {"token": token.group(1)}).content
    assert with_qr.count(b"/Subtype /Image") == plain.count(b"/Subtype /Image") + 1
    assert c.post(f"/orders/plans/{plan.pk}/agreement.pdf", {"token": "forged"}).status_code == 404


# --- pages --------------------------------------------------------------------------------------


def test_a_worker_drafts_edits_and_signs_through_the_pages(world: ServiceWorld, clock: object) -> None:
    c = client_for(world.p.community_worker)
    response = c.post(f"/orders/person/{world.elder.pk}/plan/", {"provider": world.d.provider.pk})
    plan = CarePlan.objects.get(person=world.elder)
    assert response.status_code == 302
    assert response["Location"] == f"/orders/plans/{plan.pk}/"
    page = c.get(f"/orders/plans/{plan.pk}/")
    assert page.status_code == 200
    assert "三方签署" in page.content.decode()
    bad = c.post(f"/orders/plans/{plan.pk}/items/", {"item": world.bath.pk, "tier": "free", "weekdays": ["2"],
                                                      "window_start": "14:00", "window_end": "15:00",
                                                      "minutes": "60", "preferred_caregiver": world.near.pk})
    assert bad.status_code == 400
    assert "没有“养老护理员职业技能等级证书”" in bad.content.decode()
    count = plan.items.count()
    ok = c.post(f"/orders/plans/{plan.pk}/items/", {"item": world.bath.pk, "tier": "free", "weekdays": ["2", "6"],
                                                     "window_start": "14:00", "window_end": "15:00",
                                                     "minutes": "60", "preferred_caregiver": world.certified.pk})
    assert ok.status_code == 302
    assert plan.items.count() == count + 1
    signed = c.post(f"/orders/plans/{plan.pk}/sign/", {"role": "community", "signer_name": "赵助老",
                                                        "image": signature_png()})
    assert signed.status_code == 302
    assert plan.signatures.filter(role="community").exists()
    refused = c.post(f"/orders/plans/{plan.pk}/sign/", {"role": "provider", "signer_name": "赵助老",
                                                         "image": signature_png()})
    assert refused.status_code == 403
    assert not plan.signatures.filter(role="provider").exists()


def test_the_person_panel_offers_plans_requests_and_links(world: ServiceWorld, clock: object) -> None:
    active_plan(world)
    html = client_for(world.p.community_worker).get(f"/orders/person/{world.elder.pk}/panel/").content.decode()
    assert "第1版" in html
    assert "代为申请服务" in html
    assert "开通自助下单链接" in html
    assert "制定照护方案" in html
    auditor = client_for(world.p.auditor).get(f"/orders/person/{world.elder.pk}/panel/").content.decode()
    assert "第1版" in auditor
    assert "开通自助下单链接" not in auditor
    assert "制定照护方案" not in auditor


def test_people_outside_the_scope_get_404_on_plans(world: ServiceWorld, clock: object) -> None:
    plan = active_plan(world)
    other = make_person(world.d.community_a2, by=world.p.district_officer, name="孙大爷")
    for user in (world.p.neighbour_worker, world.p.outsider, world.near.user):
        assert client_for(user).get(f"/orders/plans/{plan.pk}/").status_code == 404
    assert client_for(world.p.community_worker).post(f"/orders/person/{other.pk}/plan/",
                                                     {"provider": world.d.provider.pk}).status_code == 404
    assert not CarePlan.objects.filter(person=other).exists()
    before = CarePlan.objects.get(pk=plan.pk).status
    response = client_for(world.p.neighbour_worker).post(f"/orders/plans/{plan.pk}/end/", {"reason": "x"})
    assert response.status_code == 404
    assert CarePlan.objects.get(pk=plan.pk).status == before


def test_the_drafts_needs_come_from_the_file(world: ServiceWorld, clock: object) -> None:
    Person.objects.filter(pk=world.elder.pk).update(living_arrangement="alone", chronic_conditions=["高血压", "糖尿病"])
    world.elder.refresh_from_db()
    plan = _draft(world)
    assert "居住情况：独居" in plan.needs
    assert "慢性病：高血压、糖尿病" in plan.needs
