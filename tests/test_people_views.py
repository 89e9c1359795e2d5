"""The person-file pages: create, edit, status, contacts, attachments, reveal; who may do what."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from sanshe.core.models import AuditAction, AuditEvent
from sanshe.lib.idnumber import make_id_number
from sanshe.people.models import Attachment, Contact, Person, PersonChange, StatusChange
from tests.factories import District, Personas, make_person

pytestmark = pytest.mark.django_db


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def state(person: Person) -> tuple[Any, ...]:
    """Everything a denied request must leave untouched."""
    fresh = Person.objects.get(pk=person.pk)
    return (
        fresh.version, fresh.name, fresh.status, fresh.phone,
        Contact.objects.filter(person=person).count(), Attachment.objects.filter(person=person).count(),
        StatusChange.objects.filter(person=person).count(), PersonChange.objects.filter(person=person).count(),
        AuditEvent.objects.filter(action=AuditAction.REVEAL_ID).count(),
    )


@pytest.fixture
def elder(district: District, personas: Personas) -> Person:
    return make_person(district.community_a1, by=personas.district_officer, name="张三丰", phone="13812345678")


def create_form(district: District, **overrides: Any) -> dict[str, Any]:
    data = {
        "name": "王秀英", "id_number": make_id_number("330199", dt.date(1938, 2, 11), 22),
        "sex": "", "birth_date": "", "ethnicity": "01", "phone": "138 1234 0000",
        "residence_region": district.community_a1.pk, "address": "杏林社区桂香苑3幢501室",
        "living_arrangement": "alone", "marital_status": "30", "economic_status": "ordinary",
    }
    data.update(overrides)
    return data


def test_a_community_worker_opens_a_file_in_her_community(personas: Personas, district: District) -> None:
    c = client_for(personas.community_worker)
    response = c.post("/people/new/", create_form(district))
    person = Person.objects.get(name="王秀英")
    assert response.status_code == 302
    assert person.birth_date == dt.date(1938, 2, 11)  # derived from the ID number
    assert person.sex == "2"
    assert person.phone == "13812340000"
    assert person.name_initials == "wxy"
    assert person.file_number.startswith("330199-001001-")
    assert person.changes.get().kind == "create"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"id_number": "330199193802110220"}, "校验位"),
        ({"birth_date": "1938-02-12"}, "不一致"),
        ({"name": ""}, "姓名"),
        ({"phone": "12345"}, "格式不正确"),
        ({"latitude": "95", "longitude": "120"}, "纬度"),
        ({"disability_category": "4"}, "残疾类别和残疾等级需同时填写"),
    ],
)
def test_bad_input_gets_a_chinese_message_and_stores_nothing(
    personas: Personas, district: District, overrides: dict[str, Any], message: str
) -> None:
    c = client_for(personas.community_worker)
    response = c.post("/people/new/", create_form(district, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Person.objects.exists()


def test_a_duplicate_id_names_the_existing_file_when_visible(personas: Personas, district: District, elder: Person) -> None:
    number = Person.objects.get(pk=elder.pk)
    from sanshe.core.crypto import id_cipher

    existing = id_cipher().decrypt(number.id_number_cipher)
    c = client_for(personas.community_worker)
    response = c.post("/people/new/", create_form(district, id_number=existing, name="张三丰", sex="2",
                                                   birth_date=""))
    assert elder.file_number in response.content.decode()
    # A worker of the neighbouring community learns only that a file exists elsewhere.
    c = client_for(personas.neighbour_worker)
    response = c.post("/people/new/", create_form(district, id_number=existing, residence_region=district.community_a2.pk))
    body = response.content.decode()
    assert "已在其他辖区建档" in body
    assert elder.file_number not in body
    assert Person.objects.count() == 1


def test_a_community_worker_cannot_open_a_file_in_another_community(personas: Personas, district: District) -> None:
    c = client_for(personas.community_worker)
    response = c.post("/people/new/", create_form(district, residence_region=district.community_b1.pk))
    assert response.status_code == 200
    assert not Person.objects.exists()


def test_an_edit_is_kept_in_history_with_its_reason(personas: Personas, elder: Person) -> None:
    c = client_for(personas.community_worker)
    form = c.get(f"/people/{elder.pk}/edit/").context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and k not in ("chronic_conditions",)}
    data.update({"phone": "13900001111", "reason": "家属来电更正", "residence_region": elder.residence_region_id,
                 "birth_date": elder.birth_date.isoformat(), "id_number": ""})
    response = c.post(f"/people/{elder.pk}/edit/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    fresh = Person.objects.get(pk=elder.pk)
    assert fresh.phone == "13900001111"
    assert fresh.id_number_cipher == elder.id_number_cipher  # an empty ID field means unchanged
    change = fresh.changes.filter(kind="update").get()
    assert change.reason == "家属来电更正"
    assert change.changes["phone"] == ["13812345678", "13900001111"]


def test_a_stale_edit_form_is_refused_rather_than_overwriting(personas: Personas, elder: Person) -> None:
    c = client_for(personas.community_worker)
    form = c.get(f"/people/{elder.pk}/edit/").context["form"]
    data = {k: v for k, v in form.initial.items() if v is not None and k != "chronic_conditions"}
    data.update({"reason": "更正", "residence_region": elder.residence_region_id,
                 "birth_date": elder.birth_date.isoformat(), "id_number": "", "address": "新地址1号"})
    Person.objects.filter(pk=elder.pk).update(version=elder.version + 1)  # someone else saved
    response = c.post(f"/people/{elder.pk}/edit/", data)
    assert "已被他人修改" in response.content.decode()
    assert Person.objects.get(pk=elder.pk).address == elder.address


def test_a_status_change_records_its_date_and_reason(personas: Personas, elder: Person) -> None:
    c = client_for(personas.community_worker)
    c.post(f"/people/{elder.pk}/status/", {"to_status": "deceased", "effective_date": "2026-11-01",
                                          "reason": "死亡证明已核实"})
    fresh = Person.objects.get(pk=elder.pk)
    assert fresh.status == "deceased"
    assert fresh.status_since == dt.date(2026, 11, 1)
    assert fresh.status_changes.get().reason == "死亡证明已核实"


def test_a_status_change_without_a_reason_or_in_the_future_changes_nothing(personas: Personas, elder: Person) -> None:
    c = client_for(personas.community_worker)
    before = state(elder)
    c.post(f"/people/{elder.pk}/status/", {"to_status": "deceased", "effective_date": "2026-11-01", "reason": ""})
    c.post(f"/people/{elder.pk}/status/", {"to_status": "deceased", "effective_date": "2099-01-01", "reason": "x"})
    assert state(elder) == before


def test_viewing_a_file_is_audited(personas: Personas, elder: Person) -> None:
    client_for(personas.street_officer).get(f"/people/{elder.pk}/")
    event = AuditEvent.objects.get(action=AuditAction.VIEW_PERSON)
    assert event.person_id == elder.pk
    assert event.actor == personas.street_officer
    assert event.subject == "张*丰"


def test_an_attachment_is_served_only_through_the_access_check(personas: Personas, elder: Person) -> None:
    c = client_for(personas.community_worker)
    upload = SimpleUploadedFile("身份证.png", b"\x89PNG\r\n\x1a\nfake", content_type="image/png")
    c.post(f"/people/{elder.pk}/attachments/", {"kind": "id_copy", "file": upload})
    attachment = Attachment.objects.get()
    assert "attachments/" in attachment.file.name
    assert "身份证" not in attachment.file.name
    assert c.get(f"/people/{elder.pk}/attachments/{attachment.pk}/").status_code == 200
    assert AuditEvent.objects.filter(action=AuditAction.VIEW_ATTACHMENT).count() == 1
    other = client_for(personas.neighbour_worker)
    assert other.get(f"/people/{elder.pk}/attachments/{attachment.pk}/").status_code == 404
    assert AuditEvent.objects.filter(action=AuditAction.VIEW_ATTACHMENT).count() == 1


def test_an_attachment_of_the_wrong_type_is_refused(personas: Personas, elder: Person) -> None:
    c = client_for(personas.community_worker)
    upload = SimpleUploadedFile("run.exe", b"MZ", content_type="application/octet-stream")
    c.post(f"/people/{elder.pk}/attachments/", {"kind": "other", "file": upload})
    assert not Attachment.objects.exists()


WRITE_REQUESTS = [
    ("edit", lambda p: (f"/people/{p.pk}/edit/", {"name": "改名", "reason": "x"})),
    ("status", lambda p: (f"/people/{p.pk}/status/", {"to_status": "moved_away", "effective_date": "2026-01-01",
                                                      "reason": "迁出"})),
    ("contact", lambda p: (f"/people/{p.pk}/contacts/", {"name": "张大", "relation": "son", "phone": "13800000000"})),
    ("reveal", lambda p: (f"/people/{p.pk}/reveal-id/", {"reason": "核对身份"})),
]


@pytest.mark.parametrize(
    ("persona", "expected"),
    [
        ("district_officer", {"view": 200, "edit": 302, "status": 302, "contact": 302, "reveal": 200}),
        ("street_officer", {"view": 200, "edit": 302, "status": 302, "contact": 302, "reveal": 200}),
        ("community_worker", {"view": 200, "edit": 302, "status": 302, "contact": 302, "reveal": 200}),
        ("neighbour_worker", {"view": 404, "edit": 404, "status": 404, "contact": 404, "reveal": 404}),
        ("social_worker", {"view": 200, "edit": 403, "status": 403, "contact": 403, "reveal": 403}),
        ("operator", {"view": 200, "edit": 403, "status": 403, "contact": 403, "reveal": 403}),
        ("auditor", {"view": 200, "edit": 403, "status": 403, "contact": 403, "reveal": 403}),
        ("caregiver", {"view": 404, "edit": 404, "status": 404, "contact": 404, "reveal": 404}),
        ("outsider", {"view": 404, "edit": 404, "status": 404, "contact": 404, "reveal": 404}),
    ],
)
def test_the_access_matrix_of_the_file_pages(
    personas: Personas, elder: Person, persona: str, expected: dict[str, int]
) -> None:
    c = client_for(getattr(personas, persona))
    views_before = AuditEvent.objects.filter(action=AuditAction.VIEW_PERSON).count()
    assert c.get(f"/people/{elder.pk}/").status_code == expected["view"]
    if expected["view"] != 200:
        assert AuditEvent.objects.filter(action=AuditAction.VIEW_PERSON).count() == views_before
    for name, build in WRITE_REQUESTS:
        url, data = build(elder)
        before = state(elder)
        status = c.post(url, data).status_code
        if name == "edit" and expected[name] == 302:
            continue  # an incomplete edit form re-renders; edits are covered above
        assert status == expected[name], f"{persona} {name}"
        if status in (403, 404):
            assert state(elder) == before, f"{persona} {name} changed something"


def test_a_missing_file_and_someone_elses_file_look_the_same(personas: Personas, elder: Person) -> None:
    c = client_for(personas.neighbour_worker)
    mine = c.get(f"/people/{elder.pk}/")
    missing = c.get("/people/999999/")
    assert mine.status_code == missing.status_code == 404


def test_search_finds_by_name_initials_id_and_phone_within_scope(personas: Personas, district: District) -> None:
    zsf = make_person(district.community_a1, by=personas.district_officer, name="张三丰", phone="13811112222")
    make_person(district.community_a2, by=personas.district_officer, name="张三")
    from sanshe.core.crypto import id_cipher

    full_id = id_cipher().decrypt(zsf.id_number_cipher)
    c = client_for(personas.community_worker)
    for q in ("张三", "zsf", "ZSF", full_id, full_id.lower(), "138 1111 2222", "1381111"):
        people = [row["person"] for row in c.get("/people/", {"q": q}).context["people"]]
        assert people == [zsf], q
    district_people = client_for(personas.district_officer).get("/people/", {"q": "张三"}).context["people"]
    assert len(district_people) == 2
