"""Service records for reviewers: who sees which record (a persona matrix), the flags filter, the
audited detail page and the audited .xlsx export."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook
from PIL import Image

from sanshe.core.models import AuditAction, AuditEvent
from sanshe.orders.models import ServicePhoto, ServiceRecord
from sanshe.orders.record_access import visible_records
from tests.delivery_helpers import at, make_order, outside, visit
from tests.factories import client_for, make_user
from tests.service_factories import ServiceWorld


@pytest.fixture
def records(world: ServiceWorld, time_machine: Any) -> dict[str, ServiceRecord]:
    time_machine.move_to(at(9, 5), tick=False)
    fine = visit(world, make_order(world, caregiver=world.near, accepted=True), time_machine)
    off = visit(world, make_order(world, caregiver=world.certified, accepted=True, start=at(11)), time_machine,
                where=outside(world))
    return {"fine": fine, "off": off}


@pytest.mark.parametrize(("who", "sees"), [
    ("district_officer", True), ("street_officer", True), ("community_worker", True), ("auditor", True),
    ("neighbour_worker", False), ("outsider", False), ("social_worker", True), ("caregiver", False),
])
def test_region_personas_see_records_of_their_area_only(world: ServiceWorld, records: dict[str, ServiceRecord],
                                                        who: str, sees: bool) -> None:
    user = getattr(world.p, who)
    assert visible_records(user).filter(pk=records["fine"].pk).exists() is sees
    status = client_for(user).get(f"/service/records/{records['fine'].pk}/").status_code
    assert status == (200 if sees else 404)


def test_provider_staff_see_their_providers_records_and_a_caregiver_only_their_own(
        world: ServiceWorld, records: dict[str, ServiceRecord]) -> None:
    assert set(visible_records(world.manager)) == {records["fine"], records["off"]}
    assert list(visible_records(world.near.user)) == [records["fine"]]
    other_boss = make_user("otherboss", world.other_provider, "provider_manager")
    assert not visible_records(other_boss).exists()
    assert client_for(other_boss).get(f"/service/records/{records['fine'].pk}/").status_code == 404


def test_the_list_filters_by_flag_and_the_detail_is_audited(world: ServiceWorld,
                                                             records: dict[str, ServiceRecord]) -> None:
    client = client_for(world.p.community_worker)
    html = client.get("/service/records/?flag=outside_geofence").content.decode()
    assert f"/service/records/{records['off'].pk}/" in html
    assert f"/service/records/{records['fine'].pk}/" not in html
    html = client.get("/service/records/?flag=any&review=pending").content.decode()
    assert f"/service/records/{records['off'].pk}/" in html
    assert "异常标记不正确" in client.get("/service/records/?flag=nonsense").content.decode()

    page = client.get(f"/service/records/{records['off'].pk}/")
    assert "签到位置不在服务地址范围内" in page.content.decode()
    assert "核查通过" in page.content.decode()
    assert AuditEvent.objects.filter(action=AuditAction.VIEW_SERVICE, person_id=world.elder.pk,
                                     subject=f"服务记录 {records['off'].pk}").count() == 1


def test_the_export_is_a_workbook_of_visible_records_and_is_audited(world: ServiceWorld,
                                                                    records: dict[str, ServiceRecord]) -> None:
    response = client_for(world.p.street_officer).get("/service/records/export.xlsx?flag=any")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("记录号", "工单号", "服务日期", "服务对象")
    assert len(rows) == 2
    assert rows[1][0] == records["off"].pk
    assert "签到位置不在服务地址范围内" in str(rows[1][14])
    event = AuditEvent.objects.get(action=AuditAction.EXPORT_SERVICES)
    assert event.row_count == 1
    assert event.actor == world.p.street_officer

    outsider = client_for(world.p.outsider).get("/service/records/export.xlsx")
    sheet = load_workbook(io.BytesIO(outsider.content)).active
    assert sheet is not None
    assert sheet.max_row == 1


def test_photos_are_served_only_through_the_record(world: ServiceWorld, records: dict[str, ServiceRecord]) -> None:
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "PNG")
    photo = ServicePhoto(record=records["fine"], content_type="image/png", size=len(out.getvalue()))
    photo.file.save("p.png", SimpleUploadedFile("p.png", out.getvalue()), save=True)
    url = f"/service/records/{records['fine'].pk}/photos/{photo.pk}/"
    assert client_for(world.p.community_worker).get(url).status_code == 200
    assert client_for(world.p.neighbour_worker).get(url).status_code == 404
    assert client_for(world.certified.user).get(url).status_code == 404
