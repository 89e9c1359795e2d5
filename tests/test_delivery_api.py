"""The delivery API (tag 上门服务与核验): a caregiver's endpoints only ever return their own orders;
the whole visit through the API; reviewers list, read, export and review records; alerts."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pytest
from django.test import Client
from PIL import Image

from sanshe.accounts.actions import issue_api_token
from sanshe.accounts.models import User
from sanshe.orders.models import Alert, AlertKind, OrderStatus, ServiceRecord
from sanshe.orders.watch import run_watch
from tests.delivery_helpers import at, inside, make_order, outside
from tests.factories import signature_png
from tests.service_factories import ServiceWorld


def api(user: User) -> tuple[Client, dict[str, Any]]:
    token, _ = issue_api_token(user)
    return Client(), {"HTTP_AUTHORIZATION": f"Bearer {token}"}


@pytest.fixture
def clock(time_machine: Any) -> Any:
    time_machine.move_to(at(9, 5), tick=False)
    return time_machine


def test_a_caregiver_delivers_a_visit_through_the_api(world: ServiceWorld, clock: Any) -> None:
    order = make_order(world, caregiver=world.near)
    make_order(world, caregiver=world.certified, start=at(10))
    client, auth = api(world.near.user)
    mine = client.get("/api/v1/service/mine/orders", **auth).json()
    assert [o["id"] for o in mine] == [order.pk]
    assert mine[0]["elder"]["name"] == "钱老太"
    assert "id_number" not in mine[0]["elder"]
    assert mine[0]["tasks"] == ["清扫地面", "整理床铺", "清洁厨卫", "倒垃圾"]

    base = f"/api/v1/service/mine/orders/{order.pk}"
    assert client.post(f"{base}/accept", **auth).json()["status"] == "accepted"
    body = client.post(f"{base}/check-in", {**{k: float(v) for k, v in inside(world).items()}},
                       content_type="application/json", **auth).json()
    assert body["status"] == "in_service"
    assert body["record"]["flags"] == []
    client.post(f"{base}/visit", {"tasks_done": ["清扫地面"], "notes": "已完成"}, content_type="application/json",
                **auth)
    out = io.BytesIO()
    Image.new("RGB", (20, 20)).save(out, "WEBP")
    out.seek(0)
    out.name = "p.webp"
    uploaded = client.post(f"{base}/photos", {"photo": out}, **auth)
    assert uploaded.status_code == 201
    assert uploaded.json()["record"]["photo_count"] == 1
    clock.shift(dt.timedelta(minutes=45))
    assert client.post(f"{base}/check-out", {}, content_type="application/json", **auth).json()["status"] == "done"
    confirmed = client.post(f"{base}/confirm/signature", {"signer_name": "钱老太", "image": signature_png(),
                                                          "rating": 5}, content_type="application/json", **auth)
    assert confirmed.status_code == 200
    assert confirmed.json()["confirmed"] is True
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED


def test_caregiver_endpoints_never_reach_another_caregivers_order(world: ServiceWorld, clock: Any) -> None:
    order = make_order(world, caregiver=world.near, accepted=True)
    client, auth = api(world.certified.user)
    base = f"/api/v1/service/mine/orders/{order.pk}"
    assert client.get(base, **auth).status_code == 404
    assert client.post(f"{base}/check-in", {}, content_type="application/json", **auth).status_code == 404
    assert client.post(f"{base}/decline", {"reason": "x"}, content_type="application/json", **auth).status_code == 404
    manager, manager_auth = api(world.manager)
    assert manager.get("/api/v1/service/mine/orders", **manager_auth).status_code == 404
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED
    assert not ServiceRecord.objects.exists()


def test_bad_input_gets_a_chinese_message_and_changes_nothing(world: ServiceWorld, clock: Any) -> None:
    order = make_order(world, caregiver=world.near, accepted=True)
    client, auth = api(world.near.user)
    base = f"/api/v1/service/mine/orders/{order.pk}"
    response = client.post(f"{base}/check-in", {"latitude": 95, "longitude": 120}, content_type="application/json",
                           **auth)
    assert response.status_code == 400
    assert response.json()["detail"] == "定位数据超出范围"
    response = client.post(f"{base}/check-out", {}, content_type="application/json", **auth)
    assert response.status_code == 400
    assert response.json()["detail"] == "该工单尚未签到"
    order.refresh_from_db()
    assert order.status == OrderStatus.ACCEPTED


def test_reviewers_list_review_and_export_records_and_resolve_alerts(world: ServiceWorld, clock: Any) -> None:
    order = make_order(world, caregiver=world.near, accepted=True)
    caregiver, cg_auth = api(world.near.user)
    base = f"/api/v1/service/mine/orders/{order.pk}"
    caregiver.post(f"{base}/check-in", {k: float(v) for k, v in outside(world).items()},
                   content_type="application/json", **cg_auth)
    clock.shift(dt.timedelta(minutes=50))
    caregiver.post(f"{base}/check-out", {}, content_type="application/json", **cg_auth)

    client, auth = api(world.p.community_worker)
    listed = client.get("/api/v1/service/records?flag=outside_geofence&review=pending", **auth).json()
    assert [r["id"] for r in listed] == [order.record.pk]
    assert listed[0]["person_name"] != "钱老太"  # masked in lists
    assert client.get("/api/v1/service/records?flag=bogus", **auth).json()["detail"] == "异常标记不正确"
    export = client.get("/api/v1/service/records/export.xlsx", **auth)
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    reviewed = client.post(f"/api/v1/service/records/{order.record.pk}/review",
                           {"decision": "clear", "note": "回访属实"}, content_type="application/json", **auth)
    assert reviewed.json()["review_status"] == "cleared"
    order.refresh_from_db()
    assert order.status == OrderStatus.CONFIRMED

    late = make_order(world, caregiver=world.near, accepted=True, start=at(12))
    clock.move_to(at(13, 30), tick=False)
    run_watch()
    alerts = client.get("/api/v1/service/alerts", **auth).json()
    missed = next(a for a in alerts if a["order_id"] == late.pk)
    assert missed["kind"] == AlertKind.MISSED
    outsider, out_auth = api(world.p.neighbour_worker)
    assert outsider.post(f"/api/v1/service/alerts/{missed['id']}/resolve", {"note": "x"},
                         content_type="application/json", **out_auth).status_code == 404
    resolved = client.post(f"/api/v1/service/alerts/{missed['id']}/resolve", {"note": "已电话联系"},
                           content_type="application/json", **auth)
    assert resolved.json()["resolution"] == "已电话联系"
    assert Alert.objects.get(pk=missed["id"]).resolved_by == world.p.community_worker


def test_a_caregiver_declines_and_a_complaint_is_resolved_through_the_api(world: ServiceWorld, clock: Any) -> None:
    declined = make_order(world, caregiver=world.near)
    kept = make_order(world, caregiver=world.near, start=at(11))
    client, auth = api(world.near.user)
    response = client.post(f"/api/v1/service/mine/orders/{declined.pk}/decline", {"reason": "腰伤请假"},
                           content_type="application/json", **auth)
    assert response.json()["status"] == "requested"
    assert [o["id"] for o in client.get("/api/v1/service/mine/orders", **auth).json()] == [kept.pk]
    lodged = client.post(f"/api/v1/service/mine/orders/{kept.pk}/complaints",
                         {"lodged_by_name": "钱老太", "text": "希望固定护理员"}, content_type="application/json", **auth)
    assert lodged.status_code == 201

    manager, manager_auth = api(world.manager)
    listed = manager.get("/api/v1/service/complaints", **manager_auth).json()
    assert [c["id"] for c in listed] == [lodged.json()["id"]]
    resolved = manager.post(f"/api/v1/service/complaints/{listed[0]['id']}/resolve",
                            {"resolution": "已安排固定护理员"}, content_type="application/json", **manager_auth)
    assert resolved.json()["status"] == "resolved"
