"""The person-file API: every endpoint's happy path, bad input refused in Chinese with nothing
changed, the audit trail, and the OpenAPI schema and docs page."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from sanshe.core.crypto import id_cipher
from sanshe.core.models import AuditAction, AuditEvent, Channel
from sanshe.lib.idnumber import make_id_number
from sanshe.people.models import Attachment, Contact, Person, PersonChange, StatusChange
from tests.factories import PASSWORD, District, Personas, make_person

pytestmark = pytest.mark.django_db

PNG = b"\x89PNG\r\n\x1a\nfake"


def api_client(user: Any) -> Client:
    """A client holding a bearer token obtained the way any API client gets one."""
    response = Client().post("/api/v1/auth/token", {"username": user.username, "password": PASSWORD},
                             content_type="application/json")
    assert response.status_code == 200, response.content
    return Client(headers={"Authorization": f"Bearer {response.json()['token']}"})


def send(c: Client, method: str, url: str, data: Any = None) -> Any:
    return getattr(c, method)(url, json.dumps(data) if data is not None else None, content_type="application/json")


def full_id(person: Person) -> str:
    return id_cipher().decrypt(Person.objects.get(pk=person.pk).id_number_cipher)


def state(person: Person) -> tuple[Any, ...]:
    """Everything a refused request must leave untouched."""
    fresh = Person.objects.get(pk=person.pk)
    return (
        fresh.version, fresh.name, fresh.phone, fresh.address, fresh.birth_date, fresh.sex,
        fresh.economic_status, fresh.status, fresh.id_number_cipher,
        Contact.objects.filter(person=person).count(), Attachment.objects.filter(person=person).count(),
        StatusChange.objects.filter(person=person).count(), PersonChange.objects.filter(person=person).count(),
    )


@pytest.fixture
def elder(district: District, personas: Personas) -> Person:
    return make_person(district.community_a1, by=personas.district_officer, name="张三丰", phone="13812345678",
                       birth_date=dt.date(1945, 3, 8))


@pytest.fixture
def worker(personas: Personas) -> Client:
    return api_client(personas.community_worker)


def new_file(district: District, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "王秀英", "id_number": make_id_number("330199", dt.date(1938, 2, 11), 22),
        "phone": "138 1234 0000", "residence_region_id": district.community_a1.pk,
        "address": "杏林社区桂香苑3幢501室", "living_arrangement": "alone", "marital_status": "30",
    }
    data.update(overrides)
    return data


# --- authentication ----------------------------------------------------------------------------


def test_the_api_refuses_a_request_without_a_token_in_chinese(elder: Person) -> None:
    response = Client().get("/api/v1/people")
    assert response.status_code == 401
    assert "令牌" in response.json()["detail"]
    response = Client(headers={"Authorization": "Bearer ss_forged"}).get(f"/api/v1/people/{elder.pk}")
    assert response.status_code == 401
    assert not AuditEvent.objects.filter(action=AuditAction.VIEW_PERSON).exists()


# --- create ------------------------------------------------------------------------------------


def test_a_community_worker_opens_a_file_through_the_api(personas: Personas, district: District,
                                                          worker: Client) -> None:
    response = send(worker, "post", "/api/v1/people", new_file(district))
    assert response.status_code == 201, response.content
    body = response.json()
    person = Person.objects.get(name="王秀英")
    assert body["id"] == person.pk
    assert body["birth_date"] == "1938-02-11"  # derived from the ID number
    assert body["sex"] == "2"
    assert body["phone"] == "13812340000"
    assert body["ethnicity"] == "01"  # omitted fields take the web form's defaults
    assert body["economic_status"] == "ordinary"
    assert body["id_number_masked"] == full_id(person)[:6] + "*" * 8 + full_id(person)[-4:]
    assert full_id(person) not in response.content.decode()
    assert body["file_number"].startswith("330199-001001-")
    assert body["version"] == 1
    assert person.changes.get().kind == "create"
    event = AuditEvent.objects.get(action=AuditAction.CREATE_PERSON)
    assert event.actor == personas.community_worker
    assert event.channel == Channel.API


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"id_number": "330199193802110220"}, "id_number", "校验位"),
        ({"birth_date": "1938-02-12"}, "id_number", "不一致"),
        ({"sex": "1"}, "id_number", "性别与身份证号码不一致"),
        ({"economic_status": "rich"}, "economic_status", "取值不在允许范围内"),
        ({"ethnicity": "99"}, "ethnicity", "民族"),
        ({"chronic_conditions": ["感冒"]}, "chronic_conditions", "慢性病"),
        ({"name": ""}, "name", "姓名"),
        ({"phone": "12345"}, "phone", "格式不正确"),
        ({"latitude": "95", "longitude": "120"}, "latitude", "纬度"),
        ({"disability_category": "4"}, "disability_grade", "残疾类别和残疾等级需同时填写"),
        ({"tekun_support_mode": "dispersed"}, "tekun_support_mode", "特困"),
        ({"birth_date": "1938-13-01"}, "birth_date", "日期"),
        ({"residence_region_id": "abc"}, "residence_region_id", "整数"),
    ],
)
def test_bad_input_on_create_gets_a_chinese_400_and_stores_nothing(
    district: District, worker: Client, overrides: dict[str, Any], field: str, message: str
) -> None:
    response = send(worker, "post", "/api/v1/people", new_file(district, **overrides))
    assert response.status_code == 400, response.content
    body = response.json()
    assert message in body["detail"]
    assert body["field"] == field
    assert not Person.objects.exists()
    assert not AuditEvent.objects.filter(action=AuditAction.CREATE_PERSON).exists()


def test_a_missing_required_field_is_named(district: District, worker: Client) -> None:
    data = new_file(district)
    del data["address"]
    response = send(worker, "post", "/api/v1/people", data)
    assert response.status_code == 400
    assert response.json()["detail"] == "address：必填"
    assert not Person.objects.exists()


def test_a_community_worker_cannot_open_a_file_in_another_community(district: District, worker: Client) -> None:
    response = send(worker, "post", "/api/v1/people", new_file(district, residence_region_id=district.community_b1.pk))
    assert response.status_code == 400
    assert response.json()["field"] == "residence_region_id"
    assert "居住社区" in response.json()["detail"]
    assert not Person.objects.exists()


def test_a_duplicate_id_names_the_existing_file_only_to_someone_who_may_see_it(
    personas: Personas, district: District, elder: Person, worker: Client
) -> None:
    number = full_id(elder)
    response = send(worker, "post", "/api/v1/people", new_file(district, id_number=number, name="张三丰"))
    assert response.status_code == 400
    assert elder.file_number in response.json()["detail"]
    neighbour = api_client(personas.neighbour_worker)
    response = send(neighbour, "post", "/api/v1/people",
                    new_file(district, id_number=number, residence_region_id=district.community_a2.pk))
    assert response.status_code == 400
    assert "已在其他辖区建档" in response.json()["detail"]
    assert elder.file_number not in response.content.decode()
    assert Person.objects.count() == 1


# --- list and search ---------------------------------------------------------------------------


def test_the_list_shows_only_visible_people_and_only_masked_identities(
    personas: Personas, district: District, elder: Person, worker: Client
) -> None:
    make_person(district.community_a2, by=personas.district_officer, name="李四光")
    response = worker.get("/api/v1/people")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    assert body["count_capped"] is False
    row = body["items"][0]
    assert row["id"] == elder.pk
    assert row["name_masked"] == "张*丰"
    assert row["id_number_masked"] == elder.id_number_masked
    assert row["phone_masked"] == "138****5678"
    assert row["age"] == elder.age()
    assert row["region"] == "杏林社区"
    assert (row["status"], row["status_label"]) == ("active", "在册")
    text = response.content.decode()
    assert "张三丰" not in text
    assert full_id(elder) not in text
    assert "13812345678" not in text
    assert api_client(personas.district_officer).get("/api/v1/people").json()["count"] == 2


def test_search_finds_by_name_initials_id_and_phone_within_scope(
    personas: Personas, district: District, worker: Client
) -> None:
    zsf = make_person(district.community_a1, by=personas.district_officer, name="张三丰", phone="13811112222")
    make_person(district.community_a2, by=personas.district_officer, name="张三")
    for q in ("张三", "zsf", "ZSF", full_id(zsf), full_id(zsf).lower(), "138 1111 2222", "1381111"):
        items = worker.get("/api/v1/people", {"q": q}).json()["items"]
        assert [row["id"] for row in items] == [zsf.pk], q
    officer = api_client(personas.district_officer)
    assert officer.get("/api/v1/people", {"q": "张三"}).json()["count"] == 2


def test_the_list_filters_by_region_age_status_and_economic_status(
    personas: Personas, district: District
) -> None:
    today = timezone.localdate()
    old = make_person(district.community_a1, by=personas.district_officer, name="赵老",
                      birth_date=today.replace(year=today.year - 91) - dt.timedelta(days=1),
                      economic_status="dibao", living_arrangement="alone")
    young = make_person(district.community_b1, by=personas.district_officer, name="钱少",
                        birth_date=today.replace(year=today.year - 65) - dt.timedelta(days=1))
    officer = api_client(personas.district_officer)

    def ids(**params: Any) -> list[int]:
        response = officer.get("/api/v1/people", params)
        assert response.status_code == 200, response.content
        return [row["id"] for row in response.json()["items"]]

    assert ids(region="330199002") == [young.pk]
    assert ids(region=district.community_a1.code) == [old.pk]
    assert ids(region="330199") == [old.pk, young.pk]
    assert ids(age_min=90) == [old.pk]
    assert ids(age_max=70) == [young.pk]
    assert ids(age_min=60, age_max=69) == [young.pk]
    assert ids(economic_status="dibao") == [old.pk]
    assert ids(living_arrangement="alone") == [old.pk]
    assert ids(status="active") == [old.pk, young.pk]
    assert ids(status="deceased") == []
    assert ids(limit=1) == [old.pk]
    assert ids(limit=1, offset=1) == [young.pk]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 201}, "limit"),
        ({"limit": 0}, "limit"),
        ({"status": "lost"}, "status"),
        ({"age_min": "old"}, "age_min"),
        ({"region": "33"}, "region"),
        ({"region": "110105001001"}, "region"),  # a region that does not exist
        ({"region": "330199002001"}, "region"),  # a region outside the worker's scope
        ({"special_group": "rich"}, "special_group"),
    ],
)
def test_bad_list_parameters_are_refused_rather_than_ignored(
    worker: Client, elder: Person, params: dict[str, Any], field: str
) -> None:
    response = worker.get("/api/v1/people", params)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert response.json()["detail"]


# --- the file ----------------------------------------------------------------------------------


def test_the_file_shows_the_full_name_and_a_masked_id_and_is_audited(
    personas: Personas, elder: Person
) -> None:
    Contact.objects.create(person=elder, name="张大", relation="son", phone="13800000000", is_emergency_contact=True)
    c = api_client(personas.street_officer)
    response = c.get(f"/api/v1/people/{elder.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["name"] == "张三丰"
    assert body["phone"] == "13812345678"
    assert body["id_number_masked"] == elder.id_number_masked
    assert full_id(elder) not in response.content.decode()
    assert body["residence_region"] == "杏林社区"
    assert body["age"] == elder.age()
    assert body["can_edit"] is True
    assert body["can_reveal_id"] is True
    assert [(x["name"], x["relation_label"]) for x in body["contacts"]] == [("张大", "儿子")]
    event = AuditEvent.objects.get(action=AuditAction.VIEW_PERSON)
    assert (event.person_id, event.actor, event.subject, event.channel) == (
        elder.pk, personas.street_officer, "张*丰", Channel.API)


def test_a_read_only_role_sees_it_cannot_edit_or_reveal(personas: Personas, elder: Person) -> None:
    body = api_client(personas.auditor).get(f"/api/v1/people/{elder.pk}").json()
    assert (body["can_edit"], body["can_reveal_id"]) == (False, False)


def test_a_missing_file_and_someone_elses_file_look_the_same(personas: Personas, elder: Person) -> None:
    c = api_client(personas.neighbour_worker)
    mine, missing = c.get(f"/api/v1/people/{elder.pk}"), c.get("/api/v1/people/999999")
    assert mine.status_code == missing.status_code == 404
    assert mine.json() == missing.json() == {"detail": "没有找到该档案"}
    assert not AuditEvent.objects.filter(action=AuditAction.VIEW_PERSON).exists()


# --- edits -------------------------------------------------------------------------------------


def test_a_patch_changes_only_the_fields_sent_and_keeps_the_reason(
    personas: Personas, elder: Person, worker: Client
) -> None:
    before = Person.objects.get(pk=elder.pk)
    response = send(worker, "patch", f"/api/v1/people/{elder.pk}",
                    {"version": before.version, "reason": "家属来电更正", "phone": "139 0000 1111",
                     "economic_status": "dibao"})
    assert response.status_code == 200, response.content
    fresh = Person.objects.get(pk=elder.pk)
    assert response.json()["version"] == fresh.version == before.version + 1
    assert fresh.phone == "13900001111"
    assert fresh.economic_status == "dibao"
    for field in ("name", "address", "birth_date", "sex", "ethnicity", "living_arrangement", "id_number_cipher",
                  "residence_region_id", "marital_status"):
        assert getattr(fresh, field) == getattr(before, field), field
    change = fresh.changes.get(kind="update")
    assert change.reason == "家属来电更正"
    assert set(change.changes) == {"phone", "economic_status"}
    assert change.changes["phone"] == ["13812345678", "13900001111"]
    event = AuditEvent.objects.get(action=AuditAction.UPDATE_PERSON)
    assert (event.actor, event.reason) == (personas.community_worker, "家属来电更正")


def test_a_patch_can_correct_the_id_number_and_clear_an_optional_field(elder: Person, worker: Client) -> None:
    Person.objects.filter(pk=elder.pk).update(allergies="青霉素")
    corrected = make_id_number("330199", elder.birth_date, 998)
    response = send(worker, "patch", f"/api/v1/people/{elder.pk}",
                    {"version": elder.version, "reason": "核对户口簿更正", "id_number": corrected, "allergies": None})
    assert response.status_code == 200, response.content
    assert full_id(elder) == corrected
    assert Person.objects.get(pk=elder.pk).allergies == ""


def test_a_patch_that_changes_nothing_keeps_the_version(elder: Person, worker: Client) -> None:
    before = state(elder)
    response = send(worker, "patch", f"/api/v1/people/{elder.pk}",
                    {"version": elder.version, "reason": "核对", "phone": "13812345678"})
    assert response.status_code == 200
    assert state(elder) == before


def test_a_stored_value_the_form_would_refuse_does_not_block_a_patch_of_another_field(
    personas: Personas, district: District, worker: Client
) -> None:
    person = make_person(district.community_a1, by=personas.district_officer, id_number="", sex="9")  # 未说明
    response = send(worker, "patch", f"/api/v1/people/{person.pk}",
                    {"version": person.version, "reason": "家属来电更正", "phone": "13900002222"})
    assert response.status_code == 200, response.content
    fresh = Person.objects.get(pk=person.pk)
    assert (fresh.phone, fresh.sex) == ("13900002222", "9")


def test_a_stale_version_is_refused_with_409_and_changes_nothing(elder: Person, worker: Client) -> None:
    Person.objects.filter(pk=elder.pk).update(version=elder.version + 1)  # someone else saved
    before = state(elder)
    response = send(worker, "patch", f"/api/v1/people/{elder.pk}",
                    {"version": elder.version, "reason": "更正", "address": "新地址1号"})
    assert response.status_code == 409
    assert "已被他人修改" in response.json()["detail"]
    assert state(elder) == before


@pytest.mark.parametrize(
    ("patch", "field", "message"),
    [
        ({"id_number": "330199194503080020"}, "id_number", "校验位"),
        ({"birth_date": "1945-03-09"}, "id_number", "不一致"),
        ({"marital_status": "99"}, "marital_status", "取值不在允许范围内"),
        ({"ethnicity": "77"}, "ethnicity", "民族"),
        ({"living_arrangement": None}, "living_arrangement", "居住情况"),
        ({"phone": "010"}, "phone", "格式不正确"),
        ({"residence_region_id": 10**6}, "residence_region_id", "居住社区"),
        ({"name": "张三丰3"}, "name", "姓名"),
        ({"reason": ""}, "reason", "修改原因"),
        ({"reason": None}, "reason", "必填"),
        ({"version": None}, "version", "必填"),
        ({"version": "v1"}, "version", "整数"),
    ],
)
def test_bad_input_on_patch_gets_a_chinese_400_and_changes_nothing(
    elder: Person, worker: Client, patch: dict[str, Any], field: str, message: str
) -> None:
    data = {"version": elder.version, "reason": "更正", "address": "新地址1号", **patch}
    data = {k: v for k, v in data.items() if not (k in ("reason", "version") and v is None)}
    before = state(elder)
    response = send(worker, "patch", f"/api/v1/people/{elder.pk}", data)
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    assert message in response.json()["detail"]
    assert state(elder) == before
    assert not AuditEvent.objects.filter(action=AuditAction.UPDATE_PERSON).exists()


# --- status ------------------------------------------------------------------------------------


def test_a_status_change_records_its_date_and_reason(personas: Personas, elder: Person, worker: Client) -> None:
    day = timezone.localdate() - dt.timedelta(days=3)
    response = send(worker, "post", f"/api/v1/people/{elder.pk}/status",
                    {"to_status": "deceased", "effective_date": day.isoformat(), "reason": "死亡证明已核实"})
    assert response.status_code == 201, response.content
    assert response.json()["to_status_label"] == "死亡"
    assert response.json()["recorded_by"] == "赵助老"
    fresh = Person.objects.get(pk=elder.pk)
    assert (fresh.status, fresh.status_since, fresh.version) == ("deceased", day, elder.version + 1)
    assert fresh.status_changes.get().reason == "死亡证明已核实"
    assert AuditEvent.objects.get(action=AuditAction.CHANGE_STATUS).actor == personas.community_worker


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"reason": ""}, "reason", "原因"),
        ({"reason": "   "}, "reason", "原因"),
        ({"effective_date": "2099-01-01"}, "effective_date", "不能晚于今天"),
        ({"effective_date": "1900-01-01"}, "effective_date", "不能早于出生日期"),
        ({"to_status": "active"}, "to_status", "当前已是"),
        ({"to_status": "vanished"}, "to_status", "取值不在允许范围内"),
    ],
)
def test_a_bad_status_change_gets_a_chinese_400_and_changes_nothing(
    elder: Person, worker: Client, body: dict[str, Any], field: str, message: str
) -> None:
    data = {"to_status": "hospitalised", "effective_date": timezone.localdate().isoformat(), "reason": "住院", **body}
    before = state(elder)
    response = send(worker, "post", f"/api/v1/people/{elder.pk}/status", data)
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    assert message in response.json()["detail"]
    assert state(elder) == before


# --- reveal ------------------------------------------------------------------------------------


def test_revealing_the_id_returns_it_and_records_who_and_why(personas: Personas, elder: Person,
                                                             worker: Client) -> None:
    response = send(worker, "post", f"/api/v1/people/{elder.pk}/reveal-id", {"reason": "核对身份办理补贴"})
    assert response.status_code == 200
    assert response.json() == {"id_number": full_id(elder)}
    event = AuditEvent.objects.get(action=AuditAction.REVEAL_ID)
    assert (event.actor, event.person_id, event.reason, event.channel) == (
        personas.community_worker, elder.pk, "核对身份办理补贴", Channel.API)


@pytest.mark.parametrize("reason", ["", " ", "查"])
def test_revealing_without_a_reason_is_refused_and_not_recorded(elder: Person, worker: Client, reason: str) -> None:
    response = send(worker, "post", f"/api/v1/people/{elder.pk}/reveal-id", {"reason": reason})
    assert response.status_code == 400
    assert response.json()["detail"] == "请填写查看完整身份证号的事由"
    assert full_id(elder) not in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.REVEAL_ID).exists()


def test_a_role_without_the_reveal_capability_gets_403_and_no_number(personas: Personas, elder: Person) -> None:
    response = send(api_client(personas.auditor), "post", f"/api/v1/people/{elder.pk}/reveal-id", {"reason": "审计抽查"})
    assert response.status_code == 403
    assert response.json()["detail"] == "您的角色不能查看完整身份证号"
    assert not AuditEvent.objects.filter(action=AuditAction.REVEAL_ID).exists()


def test_a_file_without_an_id_number_has_nothing_to_reveal(personas: Personas, district: District,
                                                           worker: Client) -> None:
    person = make_person(district.community_a1, by=personas.district_officer, id_number="")
    response = send(worker, "post", f"/api/v1/people/{person.pk}/reveal-id", {"reason": "核对身份"})
    assert response.status_code == 400
    assert "未登记身份证号" in response.json()["detail"]


# --- history -----------------------------------------------------------------------------------


def test_the_history_lists_who_changed_what_when_and_why(personas: Personas, elder: Person, worker: Client) -> None:
    send(worker, "patch", f"/api/v1/people/{elder.pk}", {"version": 1, "reason": "入户核实", "address": "幸福路9号"})
    send(worker, "post", f"/api/v1/people/{elder.pk}/status",
         {"to_status": "hospitalised", "effective_date": timezone.localdate().isoformat(), "reason": "脑卒中住院"})
    response = worker.get(f"/api/v1/people/{elder.pk}/history")
    assert response.status_code == 200
    body = response.json()
    assert [c["kind"] for c in body["changes"]] == ["status", "update", "create"]
    update = body["changes"][1]
    assert (update["actor_name"], update["reason"], update["kind_label"]) == ("赵助老", "入户核实", "修改")
    assert update["changes"] == [{"field": "address", "label": "居住地址", "old": elder.address, "new": "幸福路9号"}]
    assert update["at"]
    created = body["changes"][2]
    assert created["actor_name"] == "王民政"
    id_change = next(c for c in created["changes"] if c["field"] == "id_number")
    assert id_change["new"] == elder.id_number_masked
    assert full_id(elder) not in response.content.decode()
    [status] = body["status_changes"]
    assert (status["from_status"], status["to_status"], status["reason"], status["recorded_by"]) == (
        "active", "hospitalised", "脑卒中住院", "赵助老")
    assert AuditEvent.objects.filter(action=AuditAction.VIEW_PERSON, actor=personas.community_worker).count() == 1


# --- contacts ----------------------------------------------------------------------------------


def test_contacts_are_added_listed_and_removed(personas: Personas, elder: Person, worker: Client) -> None:
    response = send(worker, "post", f"/api/v1/people/{elder.pk}/contacts",
                    {"name": "张大", "relation": "son", "phone": "138-0000-0000", "is_emergency_contact": True})
    assert response.status_code == 201, response.content
    contact = Contact.objects.get()
    assert (contact.phone, contact.is_emergency_contact, contact.is_guardian) == ("13800000000", True, False)
    assert response.json()["relation_label"] == "儿子"
    listed = worker.get(f"/api/v1/people/{elder.pk}/contacts").json()
    assert [c["id"] for c in listed] == [contact.pk]
    assert AuditEvent.objects.filter(action=AuditAction.VIEW_PERSON).count() == 1
    response = worker.delete(f"/api/v1/people/{elder.pk}/contacts/{contact.pk}")
    assert response.status_code == 204
    assert not Contact.objects.exists()
    assert [c.changes for c in elder.changes.filter(kind="contact").order_by("id")] == [
        {"contact": ["", "张大（儿子）13800000000"]}, {"contact": ["张大（儿子）13800000000", ""]}]


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"phone": ""}, "phone", "电话"),
        ({"phone": "12"}, "phone", "格式不正确"),
        ({"relation": "boss"}, "relation", "取值不在允许范围内"),
        ({"name": ""}, "name", "姓名"),
    ],
)
def test_a_bad_contact_gets_a_chinese_400_and_is_not_added(
    elder: Person, worker: Client, body: dict[str, Any], field: str, message: str
) -> None:
    data = {"name": "张大", "relation": "son", "phone": "13800000000", **body}
    before = state(elder)
    response = send(worker, "post", f"/api/v1/people/{elder.pk}/contacts", data)
    assert response.status_code == 400
    assert response.json()["field"] == field
    assert message in response.json()["detail"]
    assert state(elder) == before


def test_removing_a_contact_of_another_file_is_a_404(personas: Personas, district: District, elder: Person,
                                                     worker: Client) -> None:
    other = make_person(district.community_a1, by=personas.district_officer, name="李四")
    contact = Contact.objects.create(person=other, name="李大", relation="son", phone="13800000001")
    response = worker.delete(f"/api/v1/people/{elder.pk}/contacts/{contact.pk}")
    assert response.status_code == 404
    assert response.json()["detail"] == "没有找到该联系人"
    assert Contact.objects.filter(pk=contact.pk).exists()


# --- attachments -------------------------------------------------------------------------------


def upload(c: Client, person: Person, *, kind: str = "id_copy", name: str = "身份证.png", content: bytes = PNG,
           content_type: str = "image/png") -> Any:
    file = SimpleUploadedFile(name, content, content_type=content_type)
    return c.post(f"/api/v1/people/{person.pk}/attachments", {"kind": kind, "file": file})


def test_an_attachment_is_uploaded_listed_and_served_with_an_audit_record(
    personas: Personas, elder: Person, worker: Client
) -> None:
    response = upload(worker, elder)
    assert response.status_code == 201, response.content
    attachment = Attachment.objects.get()
    assert response.json()["kind_label"] == "身份证复印件"
    assert "身份证" not in attachment.file.name  # stored under a random name
    listed = worker.get(f"/api/v1/people/{elder.pk}/attachments").json()
    assert [(a["id"], a["original_name"], a["size"]) for a in listed] == [(attachment.pk, "身份证.png", len(PNG))]
    response = worker.get(f"/api/v1/people/{elder.pk}/attachments/{attachment.pk}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, no-store"
    event = AuditEvent.objects.get(action=AuditAction.VIEW_ATTACHMENT)
    assert (event.actor, event.person_id, event.subject) == (personas.community_worker, elder.pk,
                                                             "身份证复印件：身份证.png")


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"name": "run.exe", "content": b"MZ", "content_type": "application/octet-stream"}, "file", "只支持"),
        ({"kind": "selfie"}, "kind", "取值不在允许范围内"),
        ({"content": b""}, "file", "文件"),
    ],
)
def test_a_bad_attachment_is_refused_and_nothing_stored(
    elder: Person, worker: Client, kwargs: dict[str, Any], field: str, message: str
) -> None:
    before = state(elder)
    response = upload(worker, elder, **kwargs)
    assert response.status_code == 400, response.content
    assert response.json()["field"] == field
    assert message in response.json()["detail"]
    assert state(elder) == before


def test_an_attachment_over_the_size_limit_is_refused(elder: Person, worker: Client, settings: Any) -> None:
    settings.ATTACHMENT_MAX_BYTES = 4
    response = upload(worker, elder)
    assert response.status_code == 400
    assert "不能超过" in response.json()["detail"]
    assert not Attachment.objects.exists()


def test_an_upload_without_a_file_names_the_missing_field(elder: Person, worker: Client) -> None:
    response = worker.post(f"/api/v1/people/{elder.pk}/attachments", {"kind": "other"})
    assert response.status_code == 400
    assert response.json()["field"].endswith("file")
    assert "必填" in response.json()["detail"]


def test_an_attachment_of_another_file_is_a_404_and_not_recorded(
    personas: Personas, district: District, elder: Person, worker: Client
) -> None:
    other = make_person(district.community_a1, by=personas.district_officer, name="李四")
    upload(worker, other)
    attachment = Attachment.objects.get()
    response = worker.get(f"/api/v1/people/{elder.pk}/attachments/{attachment.pk}")
    assert response.status_code == 404
    assert response.json()["detail"] == "没有找到该附件"
    assert not AuditEvent.objects.filter(action=AuditAction.VIEW_ATTACHMENT).exists()


# --- schema and docs ---------------------------------------------------------------------------

PERSON_PATHS = {
    "/api/v1/people": {"get", "post"},
    "/api/v1/people/{person_id}": {"get", "patch"},
    "/api/v1/people/{person_id}/status": {"post"},
    "/api/v1/people/{person_id}/reveal-id": {"post"},
    "/api/v1/people/{person_id}/history": {"get"},
    "/api/v1/people/{person_id}/contacts": {"get", "post"},
    "/api/v1/people/{person_id}/contacts/{contact_id}": {"delete"},
    "/api/v1/people/{person_id}/attachments": {"get", "post"},
    "/api/v1/people/{person_id}/attachments/{attachment_id}": {"get"},
}


def test_the_openapi_schema_lists_every_person_endpoint_with_a_chinese_summary(db: None) -> None:
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    for path, methods in PERSON_PATHS.items():
        assert set(schema["paths"][path]) == methods, path
        for method in methods:
            operation = schema["paths"][path][method]
            assert operation["tags"] == ["人员档案"]
            assert any("\u4e00" <= ch <= "\u9fff" for ch in operation["summary"]), (path, method)
    upload_body = schema["paths"]["/api/v1/people/{person_id}/attachments"]["post"]["requestBody"]
    assert "multipart/form-data" in upload_body["content"]
    assert "409" in schema["paths"]["/api/v1/people/{person_id}"]["patch"]["responses"]


def test_the_docs_page_loads_its_assets_from_this_server(db: None) -> None:
    response = Client().get("/api/v1/docs")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    assert "/static/ninja/swagger-ui.css" in html
    assert "cdn" not in html.lower()
    assert "http" not in html  # no absolute URL: nothing is fetched from outside
    for asset in ("swagger-ui-bundle.js", "swagger-ui-init.js", "swagger-ui.css"):
        asset_response = Client().get(f"/static/ninja/{asset}")
        assert asset_response.status_code == 200, asset
        b"".join(asset_response.streaming_content)  # type: ignore[attr-defined]
