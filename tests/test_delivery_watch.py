"""Watching deliveries: LATE after `late_after_minutes` without a check-in, MISSED when the window
closed; once per order and kind; SMS to the provider through the outbox; alerts on the alerts
page for the provider and the community; the `watch_deliveries` and `send_messages` commands."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection, transaction

from sanshe.catalog.models import ServiceSettings
from sanshe.orders.messages import LogTransport, send_pending
from sanshe.orders.models import Alert, AlertKind, Complaint, ComplaintStatus, OutboundMessage, ServiceOrder
from sanshe.orders.watch import run_watch, watch_orders
from tests.delivery_helpers import at, inside, make_order
from tests.factories import client_for
from tests.service_factories import ServiceWorld


@pytest.fixture
def provider_phone(world: ServiceWorld) -> str:
    world.d.provider.contact_phone = "057188886666"
    world.d.provider.save()
    return "057188886666"


def test_an_order_without_check_in_is_late_then_missed_once_each(world: ServiceWorld, time_machine: Any,
                                                                 provider_phone: str) -> None:
    order = make_order(world, caregiver=world.near, accepted=True, start=at(9), window_minutes=60)
    time_machine.move_to(at(9, 29), tick=False)
    assert watch_orders() == (0, 0)
    time_machine.move_to(at(9, 31), tick=False)
    assert watch_orders() == (1, 0)
    assert watch_orders() == (0, 0)  # idempotent
    late = Alert.objects.get(order=order, kind=AlertKind.LATE)
    assert "已超过 31 分钟未签到" in late.message
    assert "刘护理" in late.message
    assert late.provider == world.d.provider
    assert late.community == world.d.community_a1
    assert OutboundMessage.objects.filter(phone=provider_phone, body__contains="服务预警").count() == 1

    time_machine.move_to(at(10, 1), tick=False)
    assert watch_orders() == (0, 1)
    assert watch_orders() == (0, 0)
    assert Alert.objects.filter(order=order).count() == 2
    assert OutboundMessage.objects.count() == 2


def test_the_district_setting_decides_when_an_order_is_late(world: ServiceWorld, time_machine: Any) -> None:
    service = ServiceSettings.for_district(world.d.district)
    service.late_after_minutes = 10
    service.save()
    make_order(world, caregiver=world.near, accepted=True, start=at(9))
    time_machine.move_to(at(9, 11), tick=False)
    assert watch_orders() == (1, 0)


def test_a_checked_in_order_raises_nothing(world: ServiceWorld, time_machine: Any) -> None:
    order = make_order(world, caregiver=world.near, accepted=True, start=at(9))
    time_machine.move_to(at(9, 20), tick=False)
    client_for(world.near.user).post(f"/service/mine/orders/{order.pk}/check-in/", inside(world))
    time_machine.move_to(at(11), tick=False)
    result = run_watch()
    assert (result.late, result.missed) == (0, 0)
    assert not Alert.objects.exists()


def test_the_command_runs_the_watch_and_the_sender_writes_the_log(world: ServiceWorld, time_machine: Any,
                                                                   provider_phone: str, settings: Any,
                                                                   tmp_path: Path) -> None:
    settings.VAR_DIR = tmp_path
    make_order(world, caregiver=world.near, accepted=True, start=at(9))
    time_machine.move_to(at(10, 30), tick=False)
    call_command("watch_deliveries")
    call_command("watch_deliveries")
    assert Alert.objects.filter(kind=AlertKind.MISSED).count() == 1
    call_command("send_messages")
    log = (tmp_path / "sms.log").read_text(encoding="utf-8")
    assert "057*****6666" in log
    assert "疑似漏服务" in log
    assert OutboundMessage.objects.filter(sent_at=None).count() == 0
    call_command("send_messages")
    assert (tmp_path / "sms.log").read_text(encoding="utf-8").count("疑似漏服务") == 1


class Broken:
    def send(self, phone: str, body: str) -> None:
        raise ConnectionError("短信网关无响应")


def test_a_failed_send_is_kept_for_retry(world: ServiceWorld, tmp_path: Path) -> None:
    OutboundMessage.objects.create(phone="13800001111", body="测试")
    assert send_pending(Broken()) == (0, 1)
    message = OutboundMessage.objects.get()
    assert message.sent_at is None
    assert message.attempts == 1
    assert "短信网关无响应" in message.last_error
    assert send_pending(LogTransport(tmp_path / "sms.log")) == (1, 0)


def test_provider_and_community_see_alerts_and_resolve_them(world: ServiceWorld, time_machine: Any) -> None:
    make_order(world, caregiver=world.near, accepted=True, start=at(9))
    time_machine.move_to(at(10, 30), tick=False)
    run_watch()
    alert = Alert.objects.get()
    for user in (world.manager, world.p.community_worker, world.p.street_officer, world.p.district_officer):
        assert "疑似漏服务" in client_for(user).get("/service/alerts/").content.decode()
    for user in (world.p.neighbour_worker, world.p.outsider, world.near.user):
        assert "疑似漏服务" not in client_for(user).get("/service/alerts/").content.decode()
        assert client_for(user).post(f"/service/alerts/{alert.pk}/resolve/", {"note": "已处理"}).status_code == 404
    alert.refresh_from_db()
    assert alert.resolved_at is None

    client = client_for(world.manager)
    page = client.post(f"/service/alerts/{alert.pk}/resolve/", {"note": ""}, follow=True)
    assert "请填写处理说明" in page.content.decode()
    client.post(f"/service/alerts/{alert.pk}/resolve/", {"note": "已改派吴护士补服务"})
    alert.refresh_from_db()
    assert alert.resolved_by == world.manager
    assert alert.resolution == "已改派吴护士补服务"


def test_an_order_past_the_lookback_is_left_alone(world: ServiceWorld, time_machine: Any) -> None:
    make_order(world, caregiver=world.near, accepted=True, start=at(9))
    time_machine.move_to(at(9) + dt.timedelta(days=3), tick=False)
    assert watch_orders() == (0, 0)


def test_a_complaint_is_handled_by_the_community_or_provider_only(world: ServiceWorld, time_machine: Any) -> None:
    time_machine.move_to(at(9, 5), tick=False)
    order = make_order(world, caregiver=world.near, accepted=True)
    client_for(world.near.user).post(f"/service/mine/orders/{order.pk}/complaint/",
                                     {"lodged_by_name": "钱小明", "text": "护理员迟到半小时"})
    complaint = Complaint.objects.get()
    assert "护理员迟到半小时" in client_for(world.manager).get("/service/alerts/").content.decode()
    for user in (world.p.neighbour_worker, world.p.outsider, world.near.user, world.p.auditor):
        response = client_for(user).post(f"/service/complaints/{complaint.pk}/resolve/", {"resolution": "x"})
        assert response.status_code == 404
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.OPEN

    client = client_for(world.p.community_worker)
    page = client.post(f"/service/complaints/{complaint.pk}/resolve/", {"resolution": " "}, follow=True)
    assert "请填写处理结果" in page.content.decode()
    client.post(f"/service/complaints/{complaint.pk}/resolve/", {"resolution": "已约谈护理员并向老人致歉"})
    complaint.refresh_from_db()
    assert complaint.status == ComplaintStatus.RESOLVED
    assert complaint.resolved_by == world.p.community_worker


@pytest.mark.django_db(transaction=True)
def test_an_order_locked_by_another_worker_is_skipped(world: ServiceWorld, time_machine: Any) -> None:
    """A second worker skips the orders the first one holds (SELECT … FOR UPDATE SKIP LOCKED)."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    held = make_order(world, caregiver=world.near, accepted=True, start=at(9))
    free = make_order(world, caregiver=world.certified, accepted=True, start=at(9, 10))
    time_machine.move_to(at(10, 30), tick=False)
    locked, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():
                ServiceOrder.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    assert locked.wait(10)
    try:
        assert watch_orders() == (0, 1)
        assert list(Alert.objects.values_list("order_id", flat=True)) == [free.pk]
    finally:
        release.set()
        thread.join()
    assert watch_orders() == (0, 1)
    assert watch_orders() == (0, 0)
