"""The monthly run as the district's civil-affairs bureau works it (seed 001_47f0e4c388d9ed24.txt,
居家养老服务补贴 1000/800/600/500 元，就高不就低): start the month's run, read what changed from the
previous month, hand the lists to streets and communities — each sees only the people of its own
region, with names and ID numbers masked, every view and export on the audit log — and try a policy
change before deciding it, without anything being written."""

from __future__ import annotations

import datetime as dt
import io
import json
from decimal import Decimal
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from openpyxl import load_workbook

from sanshe.accounts.models import Organization, OrganizationKind, Region, RegionLevel, Role, User
from sanshe.core.crypto import id_cipher
from sanshe.core.models import AuditAction, AuditEvent
from sanshe.eligibility import actions
from sanshe.eligibility.models import Entitlement, EntitlementRun, Policy, PolicyVersion, RunStatus
from sanshe.people.models import Person
from tests.factories import PASSWORD, District, Personas, client_for, make_person, make_user
from tests.test_eligibility_conditions import AGED_80, DIBAO_DEPENDENT, GROUP_THREE, NON_DIBAO_DEPENDENT
from tests.test_eligibility_monthly_run import policy

DECEMBER = dt.date(2026, 12, 1)
JANUARY = dt.date(2027, 1, 1)


def born(age: int) -> dt.date:
    """Exactly `age` on 1 December 2026 (the birthday was in November)."""
    return dt.date(DECEMBER.year - age, 11, 1)


def full_id(p: Person) -> str:
    return str(id_cipher().decrypt(p.id_number_cipher))


def elder(region: Region, by: User, name: str, age: int, **values: Any) -> Person:
    return make_person(region, by=by, name=name, birth_date=born(age), **values)


@pytest.fixture
def scheme(district: District, personas: Personas) -> dict[str, Policy]:
    by = personas.district_officer
    return {
        "1000": policy(district, by, "dibao_dependent", "低保且生活不能自理", DIBAO_DEPENDENT, "1000"),
        "800": policy(district, by, "dependent", "非低保生活不能自理", NON_DIBAO_DEPENDENT, "800"),
        "600": policy(district, by, "three_no_dibao_entitled", "三无、低保、重点优抚", GROUP_THREE, "600"),
        "500": policy(district, by, "aged_80", "80岁以上", AGED_80, "500"),
    }


@pytest.fixture
def elders(district: District, personas: Personas) -> dict[str, Person]:
    """Three elders over 80 in three communities, one in her seventies on Dibao and one aged 70."""
    by = personas.district_officer
    return {
        "a1": elder(district.community_a1, by, "欧阳秀兰", 85),
        "a1_dibao": elder(district.community_a1, by, "林桂芬", 72, economic_status="dibao"),
        "a2": elder(district.community_a2, by, "周德明", 88),
        "b1": elder(district.community_b1, by, "吴淑珍", 91),
        "b1_young": elder(district.community_b1, by, "郑国强", 70),
    }


def december_run(d: District, p: Personas) -> EntitlementRun:
    return actions.run_month(d.district, DECEMBER, acting_user=p.district_officer).run


def other_district() -> tuple[Region, User]:
    region = Region.objects.create(code="330198000000", name="东湖区", level=RegionLevel.DISTRICT)
    bureau = Organization.objects.create(name="东湖区民政局", kind=OrganizationKind.CIVIL_AFFAIRS_BUREAU, region=region)
    return region, make_user("donghu", bureau, Role.DISTRICT_OFFICER, full_name="陈东湖")


def api_token(client: Client, username: str) -> str:
    response = client.post("/api/v1/auth/token", json.dumps({"username": username, "password": PASSWORD}),
                           content_type="application/json")
    return str(response.json()["token"])


def api(user: User) -> tuple[Client, dict[str, str]]:
    client = Client()
    return client, {"HTTP_AUTHORIZATION": f"Bearer {api_token(client, user.username)}"}


def audit(action: AuditAction) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action).order_by("id"))


# --- starting the month's run ----------------------------------------------------------------------


def test_the_district_officer_starts_the_month_and_lands_on_its_result(
    district: District, personas: Personas, scheme: dict[str, Policy], elders: dict[str, Person]
) -> None:
    officer = client_for(personas.district_officer)
    page = officer.get("/eligibility/runs/new/").content.decode()
    assert 'value="2026-11"' in page  # nothing computed yet: the current month
    assert "80岁以上" in page  # the policies the month will be computed with
    response = officer.post("/eligibility/runs/new/", {"district": district.district.pk, "month": "2026-12"})
    run = EntitlementRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/eligibility/runs/{run.pk}/"
    assert (run.status, run.month, run.started_by) == (RunStatus.DONE, DECEMBER, personas.district_officer)
    # 500 each for the three over 80, 600 for the elder on Dibao (seed 001 (三)).
    assert run.entitlements == 4
    assert run.total_amount == Decimal("2100")
    [event] = audit(AuditAction.RUN_ENTITLEMENTS)
    assert event.actor == personas.district_officer
    assert event.detail == {"district": "330199000000", "month": "2026-12-01"}
    detail = officer.get(response["Location"]).content.decode()
    assert "青溪区2026年12月待遇" in detail
    assert "2100.00" in detail
    assert "上月没有计算记录" in detail
    # The next visit proposes the month after the one computed.
    assert 'value="2027-01"' in officer.get("/eligibility/runs/new/").content.decode()


def test_a_month_already_computed_is_refused_in_chinese_and_nothing_is_added(
    district: District, personas: Personas, scheme: dict[str, Policy], elders: dict[str, Person]
) -> None:
    december_run(district, personas)
    officer = client_for(personas.district_officer)
    response = officer.post("/eligibility/runs/new/", {"district": district.district.pk, "month": "2026-12"})
    assert response.status_code == 400
    assert "已计算的月份不会被重新计算" in response.content.decode()
    assert EntitlementRun.objects.count() == 1
    assert Entitlement.objects.count() == 4
    assert audit(AuditAction.RUN_ENTITLEMENTS) == []
    client, auth = api(personas.district_officer)
    refused = client.post("/api/v1/runs", json.dumps({"month": "2026-12"}), content_type="application/json", **auth)
    assert refused.status_code == 400
    assert "不会被重新计算" in refused.json()["detail"]
    assert EntitlementRun.objects.count() == 1
    bad = officer.post("/eligibility/runs/new/", {"district": district.district.pk, "month": "十二月"})
    assert bad.status_code == 400
    assert "月份格式应为" in bad.content.decode()


def test_only_the_district_starts_a_run(district: District, personas: Personas, scheme: dict[str, Policy]) -> None:
    for user in (personas.street_officer, personas.community_worker, personas.auditor, personas.outsider):
        client = client_for(user)
        assert client.get("/eligibility/runs/new/").status_code == 403
        assert client.post("/eligibility/runs/new/", {"district": district.district.pk,
                                                      "month": "2026-12"}).status_code == 403
        assert client.get("/eligibility/runs/simulate/").status_code == 403
    # An officer of another district cannot choose this one.
    _, donghu = other_district()
    response = client_for(donghu).post("/eligibility/runs/new/", {"district": district.district.pk, "month": "2026-12"})
    assert response.status_code == 400
    assert not EntitlementRun.objects.exists()
    assert audit(AuditAction.RUN_ENTITLEMENTS) == []


def test_the_command_computes_a_month_for_cron_and_prints_the_counts(
    district: District, personas: Personas, scheme: dict[str, Policy], elders: dict[str, Person]
) -> None:
    out = io.StringIO()
    call_command("run_entitlements", district="330199", month="2026-12", stdout=out)
    text = out.getvalue()
    assert "青溪区2026年12月待遇计算完成：4 条待遇，合计 2100.00 元" in text
    assert "新增 4 条，变更 0 条，终止 0 条" in text
    run = EntitlementRun.objects.get()
    assert run.started_by is None
    [event] = audit(AuditAction.RUN_ENTITLEMENTS)
    assert event.channel == "command"
    with pytest.raises(CommandError, match="不会被重新计算"):
        call_command("run_entitlements", district="330199", month="2026-12", stdout=io.StringIO())
    with pytest.raises(CommandError, match="没有计算青溪区月度待遇的权限"):
        call_command("run_entitlements", district="330199000000", month="2027-01", user="worker",
                     stdout=io.StringIO())
    with pytest.raises(CommandError, match="没有区划代码为 330100 的区县"):
        call_command("run_entitlements", district="330100", month="2027-01", stdout=io.StringIO())
    assert EntitlementRun.objects.count() == 1


# --- the background job -----------------------------------------------------------------------------

DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


# The worker commits and checks its connection like a real one: outside a test transaction.
@pytest.mark.django_db(transaction=True)
def test_a_run_waits_in_the_queue_and_the_page_follows_it_until_it_is_done(
    district: District, personas: Personas, scheme: dict[str, Policy], elders: dict[str, Person]
) -> None:
    officer = client_for(personas.district_officer)
    with override_settings(TASKS=DB_TASKS):
        response = officer.post("/eligibility/runs/new/", {"district": district.district.pk, "month": "2026-12"})
        assert response.status_code == 302
        job_url = response["Location"]
        assert job_url.startswith("/eligibility/runs/jobs/")
        page = officer.get(job_url).content.decode()
        assert "排队等待" in page
        assert 'hx-trigger="every 2s"' in page
        assert not EntitlementRun.objects.exists()
        # Nobody else follows the job: a street officer and another district get 404.
        assert client_for(personas.street_officer).get(job_url).status_code == 404
        assert client_for(other_district()[1]).get(job_url).status_code == 404
        assert officer.get("/eligibility/runs/jobs/not-a-job/").status_code == 404
        call_command("db_worker", batch=True, startup_delay=False, reload=False, verbosity=0)
        polled = officer.get(job_url, HTTP_HX_REQUEST="true")
        run = EntitlementRun.objects.get()
        assert polled["HX-Redirect"] == f"/eligibility/runs/{run.pk}/"
        assert "计算完成" in polled.content.decode()
        assert "every 2s" not in polled.content.decode()
    assert run.status == RunStatus.DONE
    assert run.entitlements == 4


def test_a_failed_run_is_shown_with_its_error_and_the_month_stays_open(
    district: District, personas: Personas, scheme: dict[str, Policy], elders: dict[str, Person]
) -> None:
    # A version whose condition was damaged in the database (the pages never let one through).
    PolicyVersion.objects.filter(policy=scheme["500"]).update(condition={"field": "shoe_size", "op": "gte", "value": 1})
    officer = client_for(personas.district_officer)
    page = officer.post("/eligibility/runs/new/", {"district": district.district.pk, "month": "2026-12"})
    text = page.content.decode()
    assert "失败" in text
    assert "计算过程中发生系统错误" in text
    assert "shoe_size" in text
    failed = EntitlementRun.objects.get()
    assert failed.status == RunStatus.FAILED
    assert not Entitlement.objects.exists()
    listing = officer.get("/eligibility/runs/").content.decode()
    assert "失败" in listing
    assert "本次计算因系统错误未完成" in officer.get(f"/eligibility/runs/{failed.pk}/").content.decode()
    PolicyVersion.objects.filter(policy=scheme["500"]).update(condition=AGED_80)
    retry = officer.post("/eligibility/runs/new/", {"district": district.district.pk, "month": "2026-12"})
    assert retry.status_code == 302
    assert EntitlementRun.objects.filter(status=RunStatus.DONE).count() == 1


def test_a_run_still_being_computed_polls_until_it_has_finished(
    district: District, personas: Personas
) -> None:
    run = EntitlementRun.objects.create(district=district.district, month=DECEMBER,
                                        started_by=personas.district_officer)
    officer = client_for(personas.district_officer)
    page = officer.get(f"/eligibility/runs/{run.pk}/").content.decode()
    assert "计算中" in page
    assert f"/eligibility/runs/{run.pk}/status/" in page
    assert "HX-Refresh" not in officer.get(f"/eligibility/runs/{run.pk}/status/")
    refused = officer.post("/eligibility/runs/new/", {"district": district.district.pk, "month": "2026-12"})
    assert "正在计算" in refused.content.decode()
    EntitlementRun.objects.filter(pk=run.pk).update(status=RunStatus.DONE)
    assert officer.get(f"/eligibility/runs/{run.pk}/status/")["HX-Refresh"] == "true"


# --- the difference from last month ---------------------------------------------------------------


@pytest.fixture
def two_months(district: District, personas: Personas, scheme: dict[str, Policy],
               elders: dict[str, Person]) -> EntitlementRun:
    """December, then January: one elder died in December, one newcomer, the rest unchanged."""
    december_run(district, personas)
    Person.objects.filter(pk=elders["b1"].pk).update(status="deceased", status_since=dt.date(2026, 12, 20))
    elder(district.community_a2, personas.district_officer, "孙玉梅", 82)
    return actions.run_month(district.district, JANUARY, acting_user=personas.district_officer).run


def test_the_runs_list_shows_each_month_with_its_totals(
    district: District, personas: Personas, two_months: EntitlementRun
) -> None:
    page = client_for(personas.district_officer).get("/eligibility/runs/").content.decode()
    assert page.index("2027年1月") < page.index("2026年12月")
    assert "2100.00" in page
    assert "王民政" in page
    # A street officer reads the list (aggregates only) but cannot start a run.
    street = client_for(personas.street_officer).get("/eligibility/runs/").content.decode()
    assert "2027年1月" in street
    assert "/eligibility/runs/new/" not in street
    assert client_for(personas.caregiver).get("/eligibility/runs/").status_code == 403


def test_the_run_page_shows_new_changed_ended_and_the_cost_per_fund_and_street(
    district: District, personas: Personas, two_months: EntitlementRun
) -> None:
    page = client_for(personas.district_officer).get(f"/eligibility/runs/{two_months.pk}/").content.decode()
    assert 'id="count-new">1<' in page
    assert 'id="count-changed">0<' in page
    assert 'id="count-ended">1<' in page
    assert "上月 2100.00 元" in page  # December: 3 × 500 + 600
    assert two_months.total_amount == Decimal("2100")  # January: one 500 ended, one 500 new
    assert "持平" in page
    assert "福彩公益金" in page
    assert "溪口街道" in page
    assert "桂花街道" not in page.split('id="by-street"')[1].split("</table>")[0]  # nobody left there


def test_the_ended_list_names_why_each_entitlement_ended(
    district: District, personas: Personas, two_months: EntitlementRun, elders: dict[str, Person]
) -> None:
    officer = client_for(personas.district_officer)
    page = officer.get(f"/eligibility/runs/{two_months.pk}/ended/").content.decode()
    assert "吴*珍" in page
    assert "吴淑珍" not in page
    assert "死亡（2026-12-20）" in page
    assert "共 1 条" in page
    [event] = audit(AuditAction.VIEW_ENTITLEMENTS)
    assert event.row_count == 1
    assert event.detail["ended"] is True


# --- the lists ---------------------------------------------------------------------------------------


def test_the_list_is_masked_and_each_view_is_on_the_audit_log(
    district: District, personas: Personas, scheme: dict[str, Policy], elders: dict[str, Person]
) -> None:
    run = december_run(district, personas)
    page = client_for(personas.district_officer).get(f"/eligibility/runs/{run.pk}/entitlements/").content.decode()
    for name, masked in (("欧阳秀兰", "欧**兰"), ("周德明", "周*明"), ("吴淑珍", "吴*珍")):
        assert masked in page
        assert name not in page
    for p in elders.values():
        assert full_id(p) not in page
    assert elders["a1"].id_number_masked in page
    assert f'/people/{elders["a1"].pk}/' in page  # the name opens the person's file
    assert "年龄 85岁 ≥ 80岁" in page  # the reason, unfolded on demand
    [event] = audit(AuditAction.VIEW_ENTITLEMENTS)
    assert (event.actor, event.row_count) == (personas.district_officer, 4)
    assert event.subject == "青溪区2026年12月待遇名单"


def test_a_community_worker_sees_only_the_people_of_her_community(
    district: District, personas: Personas, scheme: dict[str, Policy], elders: dict[str, Person]
) -> None:
    run = december_run(district, personas)
    page = client_for(personas.community_worker).get(f"/eligibility/runs/{run.pk}/entitlements/").content.decode()
    assert "欧**兰" in page
    assert "林*芬" in page
    assert "周*明" not in page  # 柳岸社区
    assert "吴*珍" not in page  # 桂花街道
    assert "共 2 条" in page
    # Asking for another community's rows gives nothing more.
    other = client_for(personas.community_worker).get(
        f"/eligibility/runs/{run.pk}/entitlements/?region={district.community_a2.pk}").content.decode()
    assert "周*明" not in other
    street = client_for(personas.street_officer).get(f"/eligibility/runs/{run.pk}/entitlements/").content.decode()
    assert "共 3 条" in street
    assert "吴*珍" not in street
    assert [e.row_count for e in audit(AuditAction.VIEW_ENTITLEMENTS)] == [2, 2, 3]


def test_the_list_filters_by_region_policy_change_and_status(
    district: District, personas: Personas, scheme: dict[str, Policy], elders: dict[str, Person]
) -> None:
    run = december_run(district, personas)
    officer = client_for(personas.district_officer)
    url = f"/eligibility/runs/{run.pk}/entitlements/"
    by_street = officer.get(f"{url}?region={district.street_b.pk}").content.decode()
    assert "吴*珍" in by_street
    assert "共 1 条" in by_street
    by_policy = officer.get(f"{url}?policy={scheme['600'].pk}").content.decode()
    assert "林*芬" in by_policy
    assert "共 1 条" in by_policy
    assert "共 4 条" in officer.get(f"{url}?change=new").content.decode()
    assert "共 0 条" in officer.get(f"{url}?change=same").content.decode()
    assert "共 4 条" in officer.get(f"{url}?status=pending").content.decode()
    partial = officer.get(f"{url}?change=new", HTTP_HX_REQUEST="true").content.decode()
    assert "<html" not in partial
    assert 'id="entitlement-table"' in partial
    assert audit(AuditAction.VIEW_ENTITLEMENTS)[-1].detail["filter"] == {"change": "new"}


def test_the_export_is_masked_scoped_and_audited(
    district: District, personas: Personas, scheme: dict[str, Policy], elders: dict[str, Person]
) -> None:
    run = december_run(district, personas)
    response = client_for(personas.street_officer).get(f"/eligibility/runs/{run.pk}/entitlements.xlsx")
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet is not None
    cells = [str(c) for row in sheet.iter_rows(values_only=True) for c in row if c is not None]
    assert "欧**兰" in cells
    assert "周*明" in cells
    assert "吴*珍" not in cells  # another street
    assert not any(p.name in cells or full_id(p) in cells for p in elders.values())
    [event] = audit(AuditAction.EXPORT_ENTITLEMENTS)
    assert (event.actor, event.row_count) == (personas.street_officer, 3)
    ended = client_for(personas.district_officer).get(f"/eligibility/runs/{run.pk}/ended.xlsx")
    assert ended.status_code == 200
    assert len(audit(AuditAction.EXPORT_ENTITLEMENTS)) == 2


def test_another_district_gets_not_found_and_the_outsider_is_refused(
    district: District, personas: Personas, scheme: dict[str, Policy], elders: dict[str, Person]
) -> None:
    run = december_run(district, personas)
    _, donghu = other_district()
    stranger = client_for(donghu)
    for url in (f"/eligibility/runs/{run.pk}/", f"/eligibility/runs/{run.pk}/entitlements/",
                f"/eligibility/runs/{run.pk}/ended/", f"/eligibility/runs/{run.pk}/entitlements.xlsx",
                f"/eligibility/runs/{run.pk}/status/"):
        assert stranger.get(url).status_code == 404
    assert "2026年12月" not in stranger.get("/eligibility/runs/").content.decode()
    assert client_for(personas.outsider).get(f"/eligibility/runs/{run.pk}/entitlements/").status_code == 403
    assert audit(AuditAction.VIEW_ENTITLEMENTS) == []
    assert audit(AuditAction.EXPORT_ENTITLEMENTS) == []


# --- the simulation --------------------------------------------------------------------------------


def counts() -> tuple[int, ...]:
    return (Entitlement.objects.count(), EntitlementRun.objects.count(), PolicyVersion.objects.count(),
            Policy.objects.count(), AuditEvent.objects.count())


def test_simulating_a_lower_age_shows_who_gains_and_writes_nothing(
    district: District, personas: Personas, scheme: dict[str, Policy], elders: dict[str, Person]
) -> None:
    officer = client_for(personas.district_officer)
    page = officer.get(f"/eligibility/runs/simulate/?policy={scheme['500'].pk}").content.decode()
    assert "现行第 1 版" in page
    assert 'value="500.00"' in page or 'value="500"' in page  # the amount in force, ready to edit
    before = counts()
    lowered = {"field": "age", "op": "gte", "value": 70}
    response = officer.post("/eligibility/runs/simulate/", {
        "policy": scheme["500"].pk, "month": "2026-12", "amount": "550", "condition": json.dumps(lowered)})
    text = response.content.decode()
    assert response.status_code == 200
    # The three over 80 gain 50 each and 郑国强 (70) gains 550; 林桂芬 (72, Dibao) keeps her 600, the
    # higher of the two in the group (就高不就低).
    assert 'id="sim-gains">4<' in text
    assert 'id="sim-losses">0<' in text
    assert "增加 700.00 元/月" in text
    assert "福彩公益金" in text
    assert counts() == before


def test_a_bad_condition_is_explained_and_a_street_officer_cannot_simulate(
    district: District, personas: Personas, scheme: dict[str, Policy]
) -> None:
    officer = client_for(personas.district_officer)
    before = counts()
    response = officer.post("/eligibility/runs/simulate/", {
        "policy": scheme["500"].pk, "month": "2026-12", "amount": "500",
        "condition": json.dumps({"all": [{"field": "age", "op": "gte", "value": "八十"}]})})
    assert response.status_code == 400
    assert "年龄的比较值" in response.content.decode()
    broken = officer.post("/eligibility/runs/simulate/", {
        "policy": scheme["500"].pk, "month": "2026-12", "amount": "500", "condition": "{not json"})
    assert broken.status_code == 400
    assert "条件格式不正确" in broken.content.decode()
    _, donghu = other_district()
    assert client_for(donghu).post("/eligibility/runs/simulate/", {
        "policy": scheme["500"].pk, "month": "2026-12", "amount": "1", "condition": json.dumps(AGED_80)}
    ).status_code == 400  # not one of its policies
    assert counts() == before


# --- the API ------------------------------------------------------------------------------------------


def test_the_api_starts_a_run_and_reads_its_difference_and_lists(
    district: District, personas: Personas, scheme: dict[str, Policy], elders: dict[str, Person]
) -> None:
    client, auth = api(personas.district_officer)
    started = client.post("/api/v1/runs", json.dumps({"month": "2026-12"}), content_type="application/json", **auth)
    assert started.status_code == 202
    job = started.json()
    assert (job["status"], job["status_label"], job["district_code"]) == ("done", "已完成", "330199000000")
    run_id = job["run_id"]
    assert audit(AuditAction.RUN_ENTITLEMENTS)[0].channel == "api"
    runs = client.get("/api/v1/runs", **auth).json()
    assert [r["id"] for r in runs] == [run_id]
    detail = client.get(f"/api/v1/runs/{run_id}", **auth).json()
    assert detail["diff"]["new"] == 4
    assert Decimal(detail["diff"]["total"]) == Decimal("2100")
    assert detail["diff"]["previous_total"] is None
    assert Decimal(detail["diff"]["cost_by_street"]["溪口街道"]) == Decimal("1600")
    page = client.get(f"/api/v1/runs/{run_id}/entitlements?policy_code=aged_80&limit=2", **auth).json()
    assert page["total"] == 3
    assert len(page["rows"]) == 2
    assert page["rows"][0]["person_name"] == "欧**兰"
    assert page["rows"][0]["id_number"] == elders["a1"].id_number_masked
    assert "年龄 85岁 ≥ 80岁" in page["rows"][0]["reasons"]
    assert client.get(f"/api/v1/runs/{run_id}/ended", **auth).json() == {"total": 0, "rows": []}
    assert len(audit(AuditAction.VIEW_ENTITLEMENTS)) == 2
    wrong = client.get(f"/api/v1/runs/{run_id}/entitlements?change=gone", **auth)
    assert wrong.status_code == 400
    assert "change 应为" in wrong.json()["detail"]


def test_the_api_keeps_each_user_in_their_region(
    district: District, personas: Personas, scheme: dict[str, Policy], elders: dict[str, Person]
) -> None:
    run = december_run(district, personas)
    client, auth = api(personas.community_worker)
    page = client.get(f"/api/v1/runs/{run.pk}/entitlements", **auth).json()
    assert {r["person_name"] for r in page["rows"]} == {"欧**兰", "林*芬"}
    assert client.get(f"/api/v1/runs/{run.pk}/entitlements?region_code={district.community_b1.code}",
                      **auth).status_code == 404
    assert client.post("/api/v1/runs", json.dumps({"month": "2027-01", "district_code": "330199"}),
                       content_type="application/json", **auth).status_code == 403
    _, donghu = other_district()
    stranger, stranger_auth = api(donghu)
    assert stranger.get(f"/api/v1/runs/{run.pk}", **stranger_auth).status_code == 404
    assert stranger.get(f"/api/v1/runs/{run.pk}/entitlements", **stranger_auth).status_code == 404
    assert stranger.post("/api/v1/runs", json.dumps({"month": "2027-01", "district_code": "330199"}),
                         content_type="application/json", **stranger_auth).status_code == 404
    assert EntitlementRun.objects.count() == 1


def test_the_api_simulates_without_writing(
    district: District, personas: Personas, scheme: dict[str, Policy], elders: dict[str, Person]
) -> None:
    client, auth = api(personas.district_officer)
    street, street_auth = api(personas.street_officer)
    before = counts()
    result = client.post("/api/v1/simulations", json.dumps({
        "policy_id": scheme["500"].pk, "month": "2026-12", "amount": "500",
        "condition": {"field": "age", "op": "gte", "value": 90}}), content_type="application/json", **auth).json()
    assert (result["gains"], result["losses"]) == (0, 2)  # 85 and 88 lose their 500; 91 keeps it
    assert Decimal(result["change"]) == Decimal("-1000")
    assert counts() == before
    refused = client.post("/api/v1/simulations", json.dumps({
        "policy_id": scheme["500"].pk, "amount": "500", "condition": {"field": "age", "op": "older", "value": 1}}),
        content_type="application/json", **auth)
    assert refused.status_code == 400
    assert "年龄不能用" in refused.json()["detail"]
    assert street.post("/api/v1/simulations", json.dumps({
        "policy_id": scheme["500"].pk, "amount": "500", "condition": AGED_80}),
        content_type="application/json", **street_auth).status_code == 403
    assert counts() == before
