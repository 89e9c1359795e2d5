"""Flags on service records: the pure rules table-tested, then each flag end to end — a flagged
record is never confirmed by a signature or a code (the user is told it goes to review), and a
reviewer clears it (order confirmed by review) or rejects it (order disputed)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from sanshe.core.errors import UserError
from sanshe.orders import delivery
from sanshe.orders.flags import StatusSpan, VisitFacts, compute_flags, death_date, hospital_spans, overlaps
from sanshe.orders.models import (
    Alert,
    AlertKind,
    Confirmation,
    Flag,
    OrderStatus,
    OutboundMessage,
    ReviewStatus,
    ServiceRecord,
)
from sanshe.people.actions import change_status
from tests.delivery_helpers import DAY, TZ, at, confirming_contact, inside, make_order, outside, visit
from tests.factories import client_for, make_person, signature_png
from tests.service_factories import BASE_LAT, BASE_LON, ServiceWorld


def t(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour, minute), tzinfo=TZ)


def facts(**changes: Any) -> VisitFacts:
    values: dict[str, Any] = {
        "service_date": DAY, "check_in_at": t(9), "check_out_at": t(10), "distance_m": 20.0, "geofence_m": 200,
        "standard_minutes": 60, "short_visit_percent": 50,
    }
    values.update(changes)
    return VisitFacts(**values)


@pytest.mark.parametrize(("changes", "expected"), [
    ({}, []),
    ({"distance_m": 200.0}, []),
    ({"distance_m": 201.0}, [Flag.OUTSIDE_GEOFENCE]),
    ({"distance_m": None}, [Flag.NO_GPS]),
    ({"check_out_at": t(9, 30)}, []),  # exactly 50 % of 60 minutes
    ({"check_out_at": t(9, 29)}, [Flag.SHORT]),
    ({"check_out_at": None}, []),  # not checked out yet: no length to judge
    ({"other_visits": [(t(9, 30), t(10, 30))]}, [Flag.OVERLAP]),
    ({"other_visits": [(t(8), t(9))]}, []),  # back to back is fine
    ({"other_visits": [(t(8), None)]}, [Flag.OVERLAP]),  # still checked in elsewhere
    ({"check_out_at": None, "other_visits": [(t(8), t(8, 50))]}, []),
    ({"death_date": DAY}, [Flag.AFTER_DEATH]),
    ({"death_date": DAY + dt.timedelta(days=1)}, []),
    ({"hospital_spans": [StatusSpan("hospitalised", DAY - dt.timedelta(days=3))]}, [Flag.HOSPITALISED]),
    ({"hospital_spans": [StatusSpan("hospitalised", DAY - dt.timedelta(days=3), DAY)]}, []),  # discharged today
    ({"distance_m": 900.0, "check_out_at": t(9, 10), "death_date": DAY - dt.timedelta(days=1)},
     [Flag.OUTSIDE_GEOFENCE, Flag.SHORT, Flag.AFTER_DEATH]),
])
def test_compute_flags(changes: dict[str, Any], expected: list[str]) -> None:
    assert compute_flags(facts(**changes)) == expected


def test_hospital_spans_and_death_date_come_from_the_status_history() -> None:
    d = dt.date
    history = [("active", "hospitalised", d(2026, 11, 1)), ("hospitalised", "active", d(2026, 11, 10)),
               ("active", "hospitalised", d(2026, 11, 20)), ("hospitalised", "deceased", d(2026, 11, 25))]
    assert hospital_spans(history) == [StatusSpan("hospitalised", d(2026, 11, 1), d(2026, 11, 10)),
                                       StatusSpan("hospitalised", d(2026, 11, 20), d(2026, 11, 25))]
    assert death_date(history) == d(2026, 11, 25)
    assert death_date(history[:2]) is None


def test_overlaps_counts_an_open_visit_as_lasting() -> None:
    assert overlaps(t(9), t(10), t(9, 59), None)
    assert not overlaps(t(9), t(10), t(10), t(11))


@pytest.fixture
def clock(time_machine: Any) -> Any:
    time_machine.move_to(at(9, 5), tick=False)
    return time_machine


def test_a_short_visit_is_flagged_and_a_signature_sends_it_to_review(world: ServiceWorld, clock: Any) -> None:
    order = make_order(world, caregiver=world.near, accepted=True)
    record = visit(world, order, clock, minutes=20)  # cleaning's standard is 60 minutes
    assert record.flags == [Flag.SHORT]
    assert record.review_status == ReviewStatus.PENDING
    alert = Alert.objects.get(order=order, kind=AlertKind.FLAGGED)
    assert "服务时长明显低于标准" in alert.message

    page = client_for(world.near.user).post(f"/service/mine/orders/{order.pk}/sign/", {
        "signer_name": "钱老太", "image": signature_png(), "rating": "5"}, follow=True)
    html = page.content.decode()
    assert "须经核查通过后才算完成" in html
    order.refresh_from_db()
    record.refresh_from_db()
    assert order.status == OrderStatus.DONE
    assert record.confirmation == ""
    assert record.confirmed_at is None
    assert record.confirmed_by_name == "钱老太"  # the signature is kept as evidence for the reviewer


def test_a_flagged_record_cannot_be_confirmed_by_code_either(world: ServiceWorld, clock: Any) -> None:
    contact = confirming_contact(world.elder)
    order = make_order(world, caregiver=world.near, accepted=True)
    record = visit(world, order, clock, where=outside(world))
    delivery.send_confirmation_code(record, caregiver=world.near, acting_user=world.near.user, contact_id=contact.pk)
    code = record.codes.get()
    digits = OutboundMessage.objects.get().body.split("确认码 ")[1][:6]
    outcome = delivery.confirm_by_code(record, caregiver=world.near, acting_user=world.near.user, code=digits)
    assert not outcome.confirmed
    assert "签到位置不在服务地址范围内" in outcome.message
    order.refresh_from_db()
    code.refresh_from_db()
    assert order.status == OrderStatus.DONE
    assert code.used_at is not None


def test_overlapping_visits_by_one_caregiver_are_flagged(world: ServiceWorld, clock: Any) -> None:
    second_elder = make_person(world.d.community_a1, by=world.p.community_worker, name="孙大爷",
                               latitude=BASE_LAT, longitude=BASE_LON)
    first = make_order(world, caregiver=world.near, accepted=True)
    second = make_order(world, caregiver=world.near, accepted=True, person=second_elder)
    delivery.check_in(first, caregiver=world.near, acting_user=world.near.user, **inside(world))
    clock.shift(dt.timedelta(minutes=5))
    record = delivery.check_in(second, caregiver=world.near, acting_user=world.near.user,
                               latitude=str(BASE_LAT), longitude=str(BASE_LON))
    assert record.flags == [Flag.OVERLAP]


def test_a_visit_after_the_recorded_death_is_flagged(world: ServiceWorld, clock: Any) -> None:
    order = make_order(world, caregiver=world.near, accepted=True)
    change_status(world.elder, to_status="deceased", effective_date=DAY - dt.timedelta(days=2), reason="病故",
                  acting_user=world.p.community_worker)
    record = visit(world, order, clock)
    assert record.flags == [Flag.AFTER_DEATH]


def test_a_visit_during_a_hospital_stay_is_flagged(world: ServiceWorld, clock: Any) -> None:
    order = make_order(world, caregiver=world.near, accepted=True)
    change_status(world.elder, to_status="hospitalised", effective_date=DAY - dt.timedelta(days=1),
                  reason="肺炎住院", acting_user=world.p.community_worker)
    record = visit(world, order, clock)
    assert record.flags == [Flag.HOSPITALISED]


def test_a_reviewer_clears_a_flagged_record_and_the_order_is_confirmed(world: ServiceWorld, clock: Any) -> None:
    order = make_order(world, caregiver=world.near, accepted=True)
    record = visit(world, order, clock, minutes=20)
    page = client_for(world.p.community_worker).post(f"/service/records/{record.pk}/review/", {
        "decision": "clear", "note": "电话回访属实：老人只要求打扫客厅"}, follow=True)
    assert "核查通过，工单已确认" in page.content.decode()
    record.refresh_from_db()
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED
    assert record.confirmation == Confirmation.REVIEW
    assert record.review_status == ReviewStatus.CLEARED
    assert record.reviewed_by == world.p.community_worker
    assert Alert.objects.get(order=order, kind=AlertKind.FLAGGED).resolved_at is not None


def test_a_rejected_record_disputes_the_order_and_needs_a_reason(world: ServiceWorld, clock: Any) -> None:
    order = make_order(world, caregiver=world.near, accepted=True)
    record = visit(world, order, clock, minutes=10)
    client = client_for(world.p.street_officer)
    page = client.post(f"/service/records/{record.pk}/review/", {"decision": "reject", "note": ""}, follow=True)
    assert "核查不通过须填写原因" in page.content.decode()
    record.refresh_from_db()
    assert record.review_status == ReviewStatus.PENDING

    client.post(f"/service/records/{record.pk}/review/", {"decision": "reject", "note": "老人称当天无人上门"})
    record.refresh_from_db()
    order.refresh_from_db()
    assert order.status == OrderStatus.DISPUTED
    assert record.review_status == ReviewStatus.REJECTED
    with pytest.raises(UserError, match="核查不通过"):
        delivery.confirm_by_signature(record, caregiver=world.near, acting_user=world.near.user,
                                      signer_name="钱老太", image=signature_png())


def test_the_provider_manager_clears_location_flags_only(world: ServiceWorld, clock: Any) -> None:
    located = visit(world, make_order(world, caregiver=world.near, accepted=True), clock, where=outside(world))
    short = visit(world, make_order(world, caregiver=world.certified, accepted=True, start=at(10)), clock,
                  minutes=5)
    client = client_for(world.manager)
    assert client.post(f"/service/records/{short.pk}/review/", {"decision": "clear"}).status_code == 404
    short.refresh_from_db()
    assert short.review_status == ReviewStatus.PENDING
    client.post(f"/service/records/{located.pk}/review/", {"decision": "clear", "note": "GPS 漂移，已回访"})
    located.refresh_from_db()
    assert located.review_status == ReviewStatus.CLEARED


def test_people_outside_the_region_or_provider_cannot_review(world: ServiceWorld, clock: Any) -> None:
    record = visit(world, make_order(world, caregiver=world.near, accepted=True), clock, minutes=5)
    for user in (world.p.neighbour_worker, world.p.outsider, world.near.user, world.p.auditor):
        response = client_for(user).post(f"/service/records/{record.pk}/review/", {"decision": "clear"})
        assert response.status_code == 404
    record.refresh_from_db()
    assert record.review_status == ReviewStatus.PENDING
    assert ServiceRecord.objects.get(pk=record.pk).order.status == OrderStatus.DONE
