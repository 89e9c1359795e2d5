"""Order pages and API: the filtered list (scoped, masked, audited), ad hoc requests by a community
worker or an operator, and an order's page with its timeline and assignment reasons."""

from __future__ import annotations

import datetime as dt

import pytest

from sanshe.core.models import AuditAction, AuditEvent
from sanshe.orders.models import OrderSource, OrderStatus, ServiceOrder
from tests.factories import client_for, make_person
from tests.service_factories import ServiceWorld
from tests.test_orders_builders import TODAY, api_client, clock, entitle, make_order

pytestmark = pytest.mark.django_db
__all__ = ["clock"]


def _request(**changes: object) -> dict[str, object]:
    data: dict[str, object] = {"item": "", "day": "2026-06-02", "window_start": "09:00", "window_end": "11:00",
                               "tier": "paid", "source": "community", "requested_by_name": "女儿 李芳",
                               "notes": "需要打扫厨房", "urgent": "on"}
    data.update(changes)
    return data


def test_a_community_worker_records_a_request_from_the_persons_page(world: ServiceWorld, clock: object) -> None:
    c = client_for(world.p.community_worker)
    form = c.get(f"/orders/person/{world.elder.pk}/request/")
    assert form.status_code == 200
    assert "居室清洁" in form.content.decode()
    response = c.post(f"/orders/person/{world.elder.pk}/request/", _request(item=world.cleaning.pk))
    order = ServiceOrder.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/orders/{order.pk}/"
    assert (order.source, order.provider, order.urgent, order.requested_by_name, order.notes) == (
        OrderSource.COMMUNITY, world.d.provider, True, "女儿 李芳", "需要打扫厨房")
    assert AuditEvent.objects.filter(action=AuditAction.CHANGE_ORDER, person_id=world.elder.pk).exists()


def test_the_request_form_defaults_to_the_entitled_tier(world: ServiceWorld, clock: object) -> None:
    entitle(world, world.elder, quota=None, tier="free")
    html = client_for(world.p.community_worker).get(f"/orders/person/{world.elder.pk}/request/").content.decode()
    assert '<option value="free" selected>' in html


@pytest.mark.parametrize(("changes", "message"), [
    ({"window_end": "08:00"}, "最晚开始时间不能早于最早开始时间"),
    ({"day": ""}, "这个字段是必填项"),
    ({"item": "999999"}, "选择一个有效的选项"),
])
def test_a_bad_request_is_refused_and_nothing_is_written(world: ServiceWorld, clock: object,
                                                         changes: dict[str, object], message: str) -> None:
    data = _request(item=world.cleaning.pk)
    data.update(changes)
    response = client_for(world.p.community_worker).post(f"/orders/person/{world.elder.pk}/request/", data)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not ServiceOrder.objects.exists()


def test_requests_for_people_outside_the_scope_are_404(world: ServiceWorld, clock: object) -> None:
    response = client_for(world.p.neighbour_worker).post(f"/orders/person/{world.elder.pk}/request/",
                                                         _request(item=world.cleaning.pk))
    assert response.status_code == 404
    assert not ServiceOrder.objects.exists()
    assert client_for(world.p.auditor).get(f"/orders/person/{world.elder.pk}/request/").status_code == 403


def test_an_operator_finds_the_person_and_records_a_call(world: ServiceWorld, clock: object) -> None:
    c = client_for(world.p.operator)
    found = c.get("/orders/new/", {"q": "钱老"}).content.decode()
    assert f"/orders/person/{world.elder.pk}/request/" in found
    html = c.get(f"/orders/person/{world.elder.pk}/request/").content.decode()
    assert '<option value="call_centre" selected>' in html
    c.post(f"/orders/person/{world.elder.pk}/request/", _request(item=world.meal.pk, source="call_centre"))
    assert ServiceOrder.objects.get().source == OrderSource.CALL_CENTRE


def test_the_list_is_scoped_filtered_masked_and_audited(world: ServiceWorld, clock: object) -> None:
    mine = make_order(world, status=OrderStatus.REQUESTED)
    urgent = make_order(world, status=OrderStatus.ASSIGNED, day=TODAY + dt.timedelta(days=3))
    ServiceOrder.objects.filter(pk=urgent.pk).update(urgent=True)
    other = make_person(world.d.community_a2, by=world.p.district_officer, name="孙大爷")
    theirs = make_order(world, person=other)
    c = client_for(world.p.community_worker)
    html = c.get("/orders/").content.decode()
    assert f'/orders/{mine.pk}/"' in html
    assert f'/orders/{theirs.pk}/"' not in html
    assert "钱*太" in html
    assert "钱老太" not in html
    filtered = c.get("/orders/", {"urgent": "1"}).content.decode()
    assert f'/orders/{urgent.pk}/"' in filtered
    assert f'/orders/{mine.pk}/"' not in filtered
    by_day = c.get("/orders/", {"date_from": "2026-06-04", "date_to": "2026-06-04"}).content.decode()
    assert f'/orders/{urgent.pk}/"' in by_day
    assert f'/orders/{mine.pk}/"' not in by_day
    by_status = c.get("/orders/", {"status": "requested"}).content.decode()
    assert f'/orders/{mine.pk}/"' in by_status
    assert f'/orders/{urgent.pk}/"' not in by_status
    assert AuditEvent.objects.filter(action=AuditAction.VIEW_SERVICE, subject="服务工单列表").count() == 4
    assert client_for(world.p.outsider).get("/orders/").status_code == 403


def test_the_order_page_shows_the_timeline_and_why_it_was_assigned(world: ServiceWorld, clock: object) -> None:
    order = make_order(world, status=OrderStatus.ASSIGNED, caregiver=world.near)
    ServiceOrder.objects.filter(pk=order.pk).update(assignment={"by": "auto", "lines": ["距离 350 米，步行约 5 分钟"]})
    page = client_for(world.manager).get(f"/orders/{order.pk}/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "距离 350 米，步行约 5 分钟" in html
    assert "平台自动派单" in html
    assert 'id="timeline"' in html
    assert AuditEvent.objects.filter(action=AuditAction.VIEW_SERVICE, person_id=world.elder.pk).exists()
    assert client_for(world.far.user).get(f"/orders/{order.pk}/").status_code == 404


def test_the_api_lists_creates_and_reads_orders(world: ServiceWorld, clock: object) -> None:
    c = api_client(world.p.community_worker)
    created = c.post("/api/v1/orders", {"person_id": world.elder.pk, "item_id": world.cleaning.pk,
                                        "date": "2026-06-03", "window_start": "14:00", "window_end": "15:00",
                                        "urgent": True}, content_type="application/json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["status"], body["provider_id"], body["tier"], body["person_name"]) == (
        "requested", world.d.provider.pk, "paid", "钱*太")
    listed = c.get("/api/v1/orders", {"urgent": "true", "status": "open"}).json()
    assert [o["id"] for o in listed] == [body["id"]]
    assert c.get(f"/api/v1/orders/{body['id']}").json()["events"][0]["reason"] == "下单：社区代为申请"
    bad = c.post("/api/v1/orders", {"person_id": world.elder.pk, "item_id": world.cleaning.pk, "date": "2026-06-03",
                                    "window_start": "15:00", "window_end": "14:00"}, content_type="application/json")
    assert bad.status_code == 400
    assert bad.json()["detail"] == "最晚开始时间不能早于最早开始时间"
    assert c.get("/api/v1/orders", {"status": "bogus"}).status_code == 400
    assert ServiceOrder.objects.count() == 1
    other = api_client(world.p.neighbour_worker)
    assert other.get(f"/api/v1/orders/{body['id']}").status_code == 404
    assert other.post("/api/v1/orders", {"person_id": world.elder.pk, "item_id": world.cleaning.pk,
                                         "date": "2026-06-03", "window_start": "14:00", "window_end": "15:00"},
                      content_type="application/json").status_code == 404
    assert ServiceOrder.objects.count() == 1


def test_the_api_drafts_and_signs_plans(world: ServiceWorld, clock: object) -> None:
    from tests.factories import signature_png

    worker = api_client(world.p.community_worker)
    drafted = worker.post("/api/v1/care-plans", {"person_id": world.elder.pk, "provider_id": world.d.provider.pk},
                          content_type="application/json")
    assert drafted.status_code == 201, drafted.content
    plan_id = drafted.json()["id"]
    added = worker.post(f"/api/v1/care-plans/{plan_id}/items", {
        "item_id": world.bath.pk, "tier": "free", "weekdays": [6], "window_start": "14:00", "window_end": "15:00",
        "minutes": 60, "preferred_caregiver_id": world.near.pk}, content_type="application/json")
    assert added.status_code == 400
    assert "没有“养老护理员职业技能等级证书”" in added.json()["detail"]
    for who, role in ((worker, "community"), (api_client(world.manager), "provider"), (worker, "elder")):
        response = who.post(f"/api/v1/care-plans/{plan_id}/signatures",
                            {"role": role, "signer_name": "签署人", "image": signature_png()},
                            content_type="application/json")
        assert response.status_code == 200, response.content
    assert response.json()["status"] == "active"
    revised = worker.post(f"/api/v1/care-plans/{plan_id}/revise")
    assert revised.status_code == 201
    assert revised.json()["version"] == 2
    ended = worker.post(f"/api/v1/care-plans/{plan_id}/end", {"reason": ""}, content_type="application/json")
    assert ended.status_code == 400
    assert worker.get(f"/api/v1/care-plans/{plan_id}").json()["status"] == "active"
    listed = api_client(world.manager).get("/api/v1/care-plans").json()
    assert {p["version"] for p in listed} == {1, 2}
