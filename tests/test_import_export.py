"""Roster import and list export: templates, per-row errors, confirm-before-write, re-import
updates without erasing, scope, masking and audit."""

from __future__ import annotations

import datetime as dt
import io
import os
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from openpyxl import Workbook, load_workbook

from sanshe.core.crypto import id_cipher
from sanshe.core.models import AuditAction, AuditEvent
from sanshe.lib.idnumber import make_id_number
from sanshe.people import importer
from sanshe.people.models import ImportJob, ImportStatus, Person, PersonChange
from tests.factories import District, Personas, make_person

HEADERS = ["姓名*", "身份证号*", "性别", "出生日期", "联系电话", "居住社区*", "居住地址*", "经济状况", "慢性病"]


def roster(rows: list[list[Any]], headers: list[str] = HEADERS) -> SimpleUploadedFile:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "人员名单"
    ws.append(headers)
    for row in rows:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    return SimpleUploadedFile("低保名单.xlsx", buffer.getvalue())


def id_for(year: int, seq: int, *, sex: str = "2") -> str:
    return make_id_number("330199", dt.date(year, 5, 17), seq * 2 + (1 if sex == "1" else 0))


def good_row(seq: int, *, name: str = "陈秀英", community: str = "330199001001") -> list[Any]:
    return [name, id_for(1948, seq), "女", "1948-05-17", f"1390000{seq:04d}", community, f"幸福路{seq}号", "低保",
            "高血压、糖尿病"]


def upload(client: Client, file: SimpleUploadedFile) -> ImportJob:
    response = client.post("/people/imports/", {"file": file})
    assert response.status_code == 302, response.content.decode()[:500]
    return ImportJob.objects.latest("pk")


@pytest.fixture
def officer(personas: Personas) -> Client:
    client = Client()
    client.force_login(personas.district_officer)
    return client


def test_template_has_every_column_and_reads_back_as_a_valid_empty_roster(officer: Client, tmp_path: Any) -> None:
    response = officer.get("/people/imports/template.xlsx")
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(response.content))
    headers = [c.value for c in wb["人员名单"][1]]
    assert headers[:2] == ["姓名*", "身份证号*"]
    assert len(headers) == len(importer.COLUMNS)
    assert "填写说明" in wb.sheetnames
    path = tmp_path / "t.xlsx"
    path.write_bytes(response.content)
    assert importer.open_sheet(path).total == 0


def test_valid_roster_is_validated_first_and_written_only_after_confirmation(
    officer: Client, district: District
) -> None:
    job = upload(officer, roster([good_row(1), good_row(2, name="刘桂兰", community="金桂社区")]))
    assert job.status == ImportStatus.VALIDATED
    assert (job.total_rows, job.valid_rows, job.error_rows) == (2, 2, 0)
    assert Person.objects.count() == 0  # nothing written before the user confirms
    page = officer.get(f"/people/imports/{job.pk}/").content.decode()
    assert "将新建 2 份档案" in page

    officer.post(f"/people/imports/{job.pk}/confirm/", {"action": "import"})
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert (job.created_count, job.updated_count) == (2, 0)
    chen = Person.objects.get(name="陈秀英")
    assert chen.residence_region == district.community_a1
    assert chen.economic_status == "dibao"
    assert chen.chronic_conditions == ["高血压", "糖尿病"]
    assert id_cipher().decrypt(chen.id_number_cipher) == id_for(1948, 1)
    assert chen.file_number.startswith("330199-001001-")
    assert chen.changes.get().kind == "import"
    assert AuditEvent.objects.filter(action=AuditAction.IMPORT_PEOPLE, row_count=2).exists()


BAD_ROWS = [
    # (row, expected column, expected words in the message)
    (["", id_for(1950, 3), "女", "", "", "330199001001", "一号"], "姓名", "必填"),
    (["周淑珍", "330199195005170001", "女", "", "", "330199001001", "二号"], "身份证号", "校验"),
    (["吴玉兰", id_for(1950, 4), "男", "", "", "330199001001", "三号"], "身份证号", "性别"),
    (["郑凤英", id_for(1950, 5), "女", "1951-01-01", "", "330199001001", "四号"], "身份证号", "出生日期"),
    (["冯桂芝", id_for(1950, 6), "女", "", "12345", "330199001001", "五号"], "联系电话", "电话"),
    (["褚秀兰", id_for(1950, 7), "女", "", "", "330199009009", "六号"], "居住社区", "不存在"),
    (["卫秀珍", id_for(1950, 8), "女", "", "", "不存在社区", "七号"], "居住社区", "未找到"),
    (["蒋玉珍", id_for(1950, 9), "女", "", "", "330199001000", "八号"], "居住社区", "社区一级"),
    (["沈兰英", id_for(1950, 10), "女", "", "", "330199001001", ""], "居住地址", "必填"),
    (["韩秀云", id_for(1950, 11), "女", "1950-13-45", "", "330199001001", "九号"], "出生日期", "格式"),
    (["杨桂英", id_for(1950, 12), "女", "", "", "330199001001", "十号", "富裕"], "经济状况", "代码表"),
    (["朱凤兰", id_for(1950, 13), "女", "", "", "330199001001", "十一号", "", "感冒"], "慢性病", "病种"),
    (["秦玉英", 330199195005170026.0, "女", "", "", "330199001001", "十二号"], "身份证号", "文本"),
    (["尤秀英", id_for(1950, 3), "女", "", "", "330199001001", "十三号"], "身份证号", "重复"),
]


def test_a_spreadsheet_full_of_bad_rows_gets_a_per_row_chinese_report_and_stores_nothing(
    officer: Client, district: District, personas: Personas
) -> None:
    existing = make_person(district.community_a1, by=personas.district_officer, name="许老太")
    before = Person.objects.count()
    rows = [row for row, _, _ in BAD_ROWS] + [good_row(20)]
    job = upload(officer, roster(rows))
    assert job.status == ImportStatus.VALIDATED
    assert (job.total_rows, job.valid_rows, job.error_rows) == (len(rows), 1, len(BAD_ROWS))
    for offset, (row, column, words) in enumerate(BAD_ROWS):
        found = [(e.column, e.message) for e in job.row_errors.filter(row_number=offset + 2)]
        assert any(c == column and words in m for c, m in found), (offset + 2, row[0], found)
    # Full ID numbers never appear in the stored error report.
    assert not job.row_errors.filter(value__regex=r"^[0-9]{17}[0-9X]$").exists()
    # The user did not choose to import the valid rows: confirming is refused and nothing changes.
    response = officer.post(f"/people/imports/{job.pk}/confirm/", {"action": "import"}, follow=True)
    assert "仅导入有效行" in response.content.decode()
    assert Person.objects.count() == before
    existing.refresh_from_db()
    assert existing.version == 1
    report = load_workbook(io.BytesIO(officer.get(f"/people/imports/{job.pk}/errors.xlsx").content))
    assert report.active is not None
    assert report.active.max_row == job.row_errors.count() + 1


def test_importing_only_the_valid_rows_when_the_user_chooses_to(officer: Client, district: District) -> None:
    job = upload(officer, roster([good_row(1), BAD_ROWS[1][0], good_row(2, name="孔秀梅")]))
    assert (job.valid_rows, job.error_rows) == (2, 1)
    officer.post(f"/people/imports/{job.pk}/confirm/", {"action": "import", "valid_rows_only": "on"})
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert job.created_count == 2
    assert set(Person.objects.values_list("name", flat=True)) == {"陈秀英", "孔秀梅"}


def test_reimport_updates_the_same_people_and_never_erases_with_blank_cells(
    officer: Client, district: District
) -> None:
    job = upload(officer, roster([good_row(1)]))
    officer.post(f"/people/imports/{job.pk}/confirm/", {"action": "import"})
    chen = Person.objects.get()
    assert chen.phone == "13900000001"

    # Second list from another department: new economic status, no phone, no conditions.
    second = [["陈秀英", id_for(1948, 1), "", "", "", "330199001001", "幸福路1号", "特困供养", ""]]
    job = upload(officer, roster(second))
    assert (job.valid_rows, job.updated_count) == (1, 1)
    officer.post(f"/people/imports/{job.pk}/confirm/", {"action": "import"})
    job.refresh_from_db()
    assert (job.created_count, job.updated_count) == (0, 1)
    assert Person.objects.count() == 1
    chen.refresh_from_db()
    assert chen.economic_status == "tekun"
    assert chen.phone == "13900000001"  # blank cell: kept
    assert chen.chronic_conditions == ["高血压", "糖尿病"]
    assert chen.version == 2
    change = chen.changes.filter(kind="import").first()
    assert change is not None
    assert change.changes["economic_status"] == ["低保", "特困供养"]

    # The same file a third time changes nothing and writes no history.
    job = upload(officer, roster(second))
    officer.post(f"/people/imports/{job.pk}/confirm/", {"action": "import"})
    chen.refresh_from_db()
    assert chen.version == 2
    assert PersonChange.objects.filter(person=chen).count() == 2


def test_community_scope_applies_to_new_and_existing_people(
    personas: Personas, district: District
) -> None:
    # A street officer of 溪口街道 may import into its communities only.
    client = Client()
    client.force_login(personas.street_officer)
    elsewhere = make_person(district.community_b1, by=personas.district_officer, name="金桂阿婆",
                            id_number=id_for(1940, 40), birth_date=dt.date(1940, 5, 17))
    rows = [good_row(1), good_row(2, community="330199002001"),
            ["金桂阿婆", id_for(1940, 40), "", "", "", "330199001001", "搬来了"]]
    job = upload(client, roster(rows))
    messages = {e.row_number: e.message for e in job.row_errors.all()}
    assert job.valid_rows == 1
    assert "不在您的管辖范围内" in messages[3]
    assert "其他辖区" in messages[4]
    assert "金桂阿婆" not in messages[4]
    elsewhere.refresh_from_db()
    assert elsewhere.residence_region == district.community_b1


def test_who_may_import_and_see_jobs(personas: Personas, district: District) -> None:
    officer = Client()
    officer.force_login(personas.district_officer)
    job = upload(officer, roster([good_row(1)]))
    for user, status in ((personas.community_worker, 403), (personas.caregiver, 403), (personas.auditor, 403)):
        client = Client()
        client.force_login(user)
        assert client.get("/people/imports/").status_code == status
        assert client.post("/people/imports/", {"file": roster([good_row(2)])}).status_code == status
        assert client.post(f"/people/imports/{job.pk}/confirm/", {"action": "import"}).status_code == status
    # Another importer does not see someone else's job: it looks missing.
    street = Client()
    street.force_login(personas.street_officer)
    assert street.get(f"/people/imports/{job.pk}/").status_code == 404
    assert street.post(f"/people/imports/{job.pk}/confirm/", {"action": "import"}).status_code == 404
    job.refresh_from_db()
    assert job.status == ImportStatus.VALIDATED
    assert Person.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("名单.csv", b"a,b", "请上传 Excel 文件"),
        ("名单.xlsx", b"not a spreadsheet", "无法读取"),
    ],
)
def test_files_that_are_not_rosters(officer: Client, district: District, name: str, content: bytes,
                                    message: str) -> None:
    response = officer.post("/people/imports/", {"file": SimpleUploadedFile(name, content)}, follow=True)
    page = response.content.decode()
    if response.redirect_chain:
        job = ImportJob.objects.latest("pk")
        assert job.status == ImportStatus.FAILED
        assert message in job.message
    else:
        assert message in page


def test_a_roster_without_the_required_columns_fails_with_the_missing_names(officer: Client, district: District) -> None:
    job = upload(officer, roster([["陈秀英", "330199001001"]], headers=["姓名", "居住社区"]))
    assert job.status == ImportStatus.FAILED
    assert "缺少必填列：身份证号、居住地址" in job.message


def test_cancel_a_validated_import(officer: Client, district: District) -> None:
    job = upload(officer, roster([good_row(1)]))
    officer.post(f"/people/imports/{job.pk}/confirm/", {"action": "cancel"})
    job.refresh_from_db()
    assert job.status == ImportStatus.CANCELLED
    officer.post(f"/people/imports/{job.pk}/confirm/", {"action": "import"})
    assert Person.objects.count() == 0


# --- export ---------------------------------------------------------------------------------


def test_export_is_masked_by_default_filtered_and_audited(
    officer: Client, personas: Personas, district: District
) -> None:
    make_person(district.community_a1, by=personas.district_officer, name="张三丰", economic_status="dibao")
    make_person(district.community_b1, by=personas.district_officer, name="李四光")
    response = officer.get("/people/export.xlsx", {"economic_status": "dibao"})
    assert response.status_code == 200
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[attr-defined]
    rows = list(wb["人员名单"].values)
    assert rows[0][:2] == ("档案编号", "姓名")
    assert len(rows) == 2
    assert rows[1][1] == "张*丰"
    assert "*" in rows[1][5]
    event = AuditEvent.objects.get(action=AuditAction.EXPORT_PEOPLE)
    assert event.row_count == 1
    assert event.detail["full"] is False


def test_full_export_needs_a_reason_and_a_role_that_may_see_ids(
    personas: Personas, district: District
) -> None:
    person = make_person(district.community_a1, by=personas.district_officer, name="张三丰")
    full_id = id_cipher().decrypt(person.id_number_cipher)
    officer = Client()
    officer.force_login(personas.district_officer)
    refused = officer.post("/people/export.xlsx", {"reason": ""}, follow=True)
    assert "须填写事由" in refused.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT_PEOPLE).exists()

    response = officer.post("/people/export.xlsx", {"reason": "报送区残联核对"})
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[attr-defined]
    row = list(wb["人员名单"].values)[1]
    assert row[1] == "张三丰"
    assert row[5] == full_id
    event = AuditEvent.objects.get(action=AuditAction.EXPORT_PEOPLE)
    assert event.reason == "报送区残联核对"
    assert event.detail["full"] is True

    auditor = Client()
    auditor.force_login(personas.auditor)
    assert auditor.get("/people/export.xlsx").status_code == 403
    assert auditor.post("/people/export.xlsx", {"reason": "看看"}).status_code == 403


def test_export_scope_follows_the_list(personas: Personas, district: District) -> None:
    make_person(district.community_a1, by=personas.district_officer, name="张三丰")
    make_person(district.community_a2, by=personas.district_officer, name="李四光")
    client = Client()
    client.force_login(personas.community_worker)
    response = client.get("/people/export.xlsx")
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))  # type: ignore[attr-defined]
    names = [r[1] for r in list(wb["人员名单"].values)[1:]]
    assert names == ["张*丰"]


def test_export_over_the_cap_is_refused_with_advice(
    officer: Client, personas: Personas, district: District, settings: Any
) -> None:
    settings.EXPORT_MAX_ROWS = 1
    make_person(district.community_a1, by=personas.district_officer, name="张三丰")
    make_person(district.community_a1, by=personas.district_officer, name="李四光")
    response = officer.get("/people/export.xlsx", follow=True)
    assert "缩小筛选范围" in response.content.decode()
    assert not AuditEvent.objects.filter(action=AuditAction.EXPORT_PEOPLE).exists()


def test_the_import_command_checks_then_imports(district: District, personas: Personas, tmp_path: Any) -> None:
    from django.core.management import CommandError, call_command

    path = tmp_path / "名单.xlsx"
    path.write_bytes(roster([good_row(1), BAD_ROWS[1][0]]).read())
    out = io.StringIO()
    with pytest.raises(CommandError, match="--valid-rows-only"):
        call_command("import_roster", str(path), user="district", stdout=out)
    assert Person.objects.count() == 0
    call_command("import_roster", str(path), user="district", valid_rows_only=True, stdout=out)
    assert "新建 1 份档案" in out.getvalue()
    with pytest.raises(CommandError, match="没有导入名单的权限"):
        call_command("import_roster", str(path), user="worker", stdout=out)


# --- the same through the API ------------------------------------------------------------------


def api_client(username: str) -> tuple[Client, dict[str, str]]:
    import json

    from tests.factories import PASSWORD

    client = Client()
    token = client.post("/api/v1/auth/token", json.dumps({"username": username, "password": PASSWORD}),
                        content_type="application/json").json()["token"]
    return client, {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def test_import_and_export_through_the_api(personas: Personas, district: District) -> None:
    client, auth = api_client("district")
    assert client.get("/api/v1/people/imports/template.xlsx", **auth).status_code == 200  # type: ignore[arg-type]
    response = client.post("/api/v1/people/imports", {"file": roster([good_row(1), BAD_ROWS[1][0]])},
                           **auth)  # type: ignore[arg-type]
    assert response.status_code == 201, response.content
    job = response.json()
    assert (job["status"], job["valid_rows"], job["error_rows"]) == ("validated", 1, 1)
    assert job["errors"][0]["row_number"] == 3
    refused = client.post(f"/api/v1/people/imports/{job['id']}/confirm", "{}", content_type="application/json",
                          **auth)  # type: ignore[arg-type]
    assert refused.status_code == 400
    assert "仅导入有效行" in refused.json()["detail"]
    assert Person.objects.count() == 0
    done = client.post(f"/api/v1/people/imports/{job['id']}/confirm", '{"valid_rows_only": true}',
                       content_type="application/json", **auth)  # type: ignore[arg-type]
    assert done.json()["status"] == "done"
    assert done.json()["created_count"] == 1

    masked = client.get("/api/v1/people/export.xlsx", {"economic_status": "dibao"}, **auth)  # type: ignore[arg-type]
    wb = load_workbook(io.BytesIO(b"".join(masked.streaming_content)))  # type: ignore[attr-defined]
    assert list(wb["人员名单"].values)[1][1] == "陈*英"
    no_reason = client.post("/api/v1/people/export.xlsx", '{"reason": ""}', content_type="application/json",
                            **auth)  # type: ignore[arg-type]
    assert no_reason.status_code == 400
    assert AuditEvent.objects.filter(action=AuditAction.EXPORT_PEOPLE).count() == 1

    other, other_auth = api_client("street")
    assert other.get(f"/api/v1/people/imports/{job['id']}", **other_auth).status_code == 404  # type: ignore[arg-type]
    worker, worker_auth = api_client("worker")
    assert worker.post("/api/v1/people/imports", {"file": roster([good_row(2)])},
                       **worker_auth).status_code == 403  # type: ignore[arg-type]


def test_the_uploaded_spreadsheet_is_deleted_once_imported(officer: Client, district: District) -> None:
    """It holds full ID numbers in the clear; the masked error list is what stays."""
    job = upload(officer, roster([good_row(1), BAD_ROWS[1][0]]))
    path = job.file.path
    assert os.path.exists(path)
    officer.post(f"/people/imports/{job.pk}/confirm/", {"action": "import", "valid_rows_only": "on"})
    job.refresh_from_db()
    assert job.status == ImportStatus.DONE
    assert not job.file
    assert not os.path.exists(path)
    assert officer.get(f"/people/imports/{job.pk}/errors.xlsx").status_code == 200
