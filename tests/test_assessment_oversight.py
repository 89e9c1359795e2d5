"""Oversight: who is due for an assessment, the assessment rate per region, the district's
assessment parameters."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.test import Client
from openpyxl import load_workbook

from sanshe.accounts.models import Role, User
from sanshe.assessments.models import (
    Assessment,
    AssessmentReason,
    AssessmentSettings,
    AssessmentStatus,
    CapabilityRecord,
    ReassessmentTrigger,
    TriggerKind,
)
from sanshe.assessments.queries import DueFilter, DueKind, assessment_rate, due_people
from sanshe.people.codes import EconomicStatus, LivingArrangement, PersonStatus
from sanshe.people.models import Person, StatusChange
from tests.factories import District, Personas, make_person, make_user

pytestmark = pytest.mark.django_db

TODAY = dt.date(2025, 6, 2)


@pytest.fixture(autouse=True)
def _fixed_day() -> Any:
    with time_machine.travel(dt.datetime(2025, 6, 2, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai")), tick=False):
        yield


def client_for(user: Any) -> Client:
    c = Client()
    c.force_login(user)
    return c


def aged(years: int) -> dt.date:
    return dt.date(TODAY.year - years, 1, 15)


def elder(region: Any, by: User, name: str, *, age: int = 85, **values: Any) -> Person:
    return make_person(region, by=by, name=name, birth_date=aged(age), **values)


def assessed(person: Person, *, on: dt.date, level: int, valid_until: dt.date, by: User) -> CapabilityRecord:
    """A published assessment and the current level it left on the file."""
    assessment = Assessment.objects.create(
        person=person, number=f"PG2025{Assessment.objects.count() + 1:07d}", reason=AssessmentReason.FIRST,
        status=AssessmentStatus.PUBLISHED, requested_by=by, instrument_code="GB/T 42195-2022",
        instrument_version="2022.1", assessed_on=on, final_level=level, valid_from=on, valid_until=valid_until,
    )
    return CapabilityRecord.objects.create(person=person, assessment=assessment, level=level, assessed_on=on,
                                           valid_until=valid_until)


def open_request(person: Person, by: User) -> Assessment:
    return Assessment.objects.create(person=person, number=f"PG2025{Assessment.objects.count() + 1:07d}",
                                     reason=AssessmentReason.ROUTINE, requested_by=by,
                                     instrument_code="GB/T 42195-2022", instrument_version="2022.1")


def due(user: User, kind: str, **kwargs: Any) -> list[str]:
    return sorted(p.name for p in due_people(user, DueFilter(kind=kind, **kwargs), today=TODAY))


# --- who is due --------------------------------------------------------------------------------


@pytest.fixture
def due_cases(district: District, personas: Personas) -> dict[str, Person]:
    by = personas.district_officer
    a1, a2, b1 = district.community_a1, district.community_a2, district.community_b1
    people = {
        "overdue": elder(a1, by, "过期甲"),
        "due_soon": elder(a1, by, "将到乙"),
        "current": elder(a1, by, "有效丙"),
        "fall": elder(a2, by, "跌倒丁"),
        "discharged": elder(a2, by, "出院戊"),
        "old_trigger": elder(a2, by, "旧事己"),
        "never_80": elder(b1, by, "高龄庚"),
        "never_dibao": elder(b1, by, "低保辛", age=70, economic_status=EconomicStatus.DIBAO),
        "never_alone": elder(a1, by, "独居壬", age=68, living_arrangement=LivingArrangement.ALONE),
        "not_target": elder(a1, by, "普通癸", age=70),
        "deceased": elder(a1, by, "故去子"),
        "busy": elder(a1, by, "在评丑"),
    }
    assessed(people["overdue"], on=dt.date(2024, 5, 1), level=2, valid_until=dt.date(2025, 5, 1), by=by)
    assessed(people["due_soon"], on=dt.date(2024, 6, 20), level=1, valid_until=dt.date(2025, 6, 20), by=by)
    assessed(people["current"], on=dt.date(2025, 1, 10), level=1, valid_until=dt.date(2026, 1, 10), by=by)
    assessed(people["fall"], on=dt.date(2025, 1, 10), level=1, valid_until=dt.date(2026, 1, 10), by=by)
    assessed(people["discharged"], on=dt.date(2025, 1, 10), level=3, valid_until=dt.date(2026, 1, 10), by=by)
    assessed(people["old_trigger"], on=dt.date(2025, 1, 10), level=0, valid_until=dt.date(2026, 1, 10), by=by)
    ReassessmentTrigger.objects.create(person=people["fall"], kind=TriggerKind.FALL, occurred_on=dt.date(2025, 5, 10),
                                       note="夜间如厕跌倒")
    ReassessmentTrigger.objects.create(person=people["old_trigger"], kind=TriggerKind.FALL,
                                       occurred_on=dt.date(2024, 12, 1))
    StatusChange.objects.create(person=people["discharged"], from_status=PersonStatus.HOSPITALISED,
                                to_status=PersonStatus.ACTIVE, effective_date=dt.date(2025, 5, 20), reason="出院回家")
    StatusChange.objects.create(person=people["old_trigger"], from_status=PersonStatus.HOSPITALISED,
                                to_status=PersonStatus.ACTIVE, effective_date=dt.date(2024, 11, 1), reason="出院")
    Person.objects.filter(pk=people["deceased"].pk).update(status=PersonStatus.DECEASED)
    open_request(people["busy"], by)
    return people


def test_each_kind_lists_the_right_people(personas: Personas, due_cases: dict[str, Person]) -> None:
    officer = personas.district_officer
    assert due(officer, DueKind.OVERDUE) == ["过期甲"]
    assert due(officer, DueKind.DUE_SOON) == ["将到乙"]
    assert due(officer, DueKind.IMMEDIATE) == ["出院戊", "跌倒丁"]
    # 80+, dibao, living alone; not the 70-year-old living with a spouse, nor the deceased, nor the
    # person whose assessment is already under way.
    assert due(officer, DueKind.NEVER) == ["低保辛", "独居壬", "高龄庚"]


def test_a_trigger_counts_without_an_assessment_and_old_events_leave_it_to_the_overdue_list(
    district: District, personas: Personas, due_cases: dict[str, Person]
) -> None:
    by = personas.district_officer
    young = elder(district.community_a1, by, "年轻卯", age=70)  # outside the target population
    ReassessmentTrigger.objects.create(person=young, kind=TriggerKind.FALL, occurred_on=dt.date(2025, 5, 1))
    long_ago = elder(district.community_a1, by, "早年辰")
    assessed(long_ago, on=dt.date(2023, 1, 1), level=1, valid_until=dt.date(2024, 1, 1), by=by)
    StatusChange.objects.create(person=long_ago, from_status=PersonStatus.HOSPITALISED, to_status=PersonStatus.ACTIVE,
                                effective_date=dt.date(2023, 6, 1), reason="出院")
    assert due(by, DueKind.IMMEDIATE) == ["出院戊", "年轻卯", "跌倒丁"]
    assert due(by, DueKind.OVERDUE) == ["早年辰", "过期甲"]
    page = client_for(by).get("/assessments/due/", {"kind": "immediate"}).content.decode()
    assert "2025-05-01 跌倒，尚无评估记录" in page


def test_people_with_an_open_assessment_are_left_out_or_marked(
    personas: Personas, due_cases: dict[str, Person]
) -> None:
    officer = personas.district_officer
    open_request(due_cases["overdue"], officer)
    assert due(officer, DueKind.OVERDUE) == []
    assert due(officer, DueKind.NEVER, include_open=True) == ["低保辛", "在评丑", "独居壬", "高龄庚"]
    response = client_for(officer).get("/assessments/due/", {"kind": "overdue", "include_open": "on"})
    assert "过*甲" in response.content.decode()
    assert "评估进行中" in response.content.decode()


def test_the_due_soon_window_follows_the_district_setting(
    district: District, personas: Personas, due_cases: dict[str, Person]
) -> None:
    later = elder(district.community_a1, personas.district_officer, "七月寅")
    assessed(later, on=dt.date(2024, 7, 20), level=1, valid_until=dt.date(2025, 7, 20), by=personas.district_officer)
    assert due(personas.district_officer, DueKind.DUE_SOON) == ["将到乙"]
    AssessmentSettings.objects.create(district=district.district, due_soon_days=60)
    assert due(personas.district_officer, DueKind.DUE_SOON) == ["七月寅", "将到乙"]


def test_a_community_worker_sees_only_her_community(personas: Personas, due_cases: dict[str, Person]) -> None:
    worker = personas.community_worker  # 杏林社区 (a1)
    assert due(worker, DueKind.OVERDUE) == ["过期甲"]
    assert due(worker, DueKind.IMMEDIATE) == []
    assert due(worker, DueKind.NEVER) == ["独居壬"]


def test_the_due_page_gives_reasons_masks_names_and_links_to_the_file(
    district: District, personas: Personas, due_cases: dict[str, Person]
) -> None:
    c = client_for(personas.district_officer)
    page = c.get("/assessments/due/").content.decode()  # overdue first
    assert "过*甲" in page
    assert "过期甲" not in page
    assert "评估有效期已于 2025-05-01 届满，逾期 32 天" in page
    assert f'/people/{due_cases["overdue"].pk}/' in page
    immediate = c.get("/assessments/due/", {"kind": "immediate"}).content.decode()
    assert "2025-05-20 出院，晚于当前评估（2025-01-10）" in immediate
    assert "2025-05-10 跌倒（夜间如厕跌倒），晚于当前评估（2025-01-10）" in immediate
    never = c.get("/assessments/due/", {"kind": "never"}).content.decode()
    assert "目标人群（低保），尚无评估记录" in never
    assert "目标人群（80岁以上），尚无评估记录" in never
    # The tabs show how many people each kind holds.
    assert 'kind=never" class="active"' in never


def test_the_due_page_filters_by_region(
    district: District, personas: Personas, due_cases: dict[str, Person]
) -> None:
    c = client_for(personas.district_officer)
    page = c.get("/assessments/due/", {"kind": "never", "region": district.street_b.pk}).content.decode()
    assert "高*庚" in page
    assert "低*辛" in page
    assert "独*壬" not in page


def test_the_due_page_is_paginated(district: District, personas: Personas) -> None:
    digits = "零一二三四五六七八九"
    for n in range(23):
        elder(district.community_b1, personas.district_officer, f"高龄{digits[n // 10]}{digits[n % 10]}")
    c = client_for(personas.district_officer)
    first = c.get("/assessments/due/", {"kind": "never"}).content.decode()
    second = c.get("/assessments/due/", {"kind": "never", "page": 2}).content.decode()
    assert first.count("/people/") - second.count("/people/") > 0
    assert "下一页" in first
    assert "下一页" not in second
    assert second.count('class="btn btn-secondary btn-small" href="/people/') == 3


def test_the_due_page_needs_the_capability(personas: Personas) -> None:
    for user in (personas.caregiver, personas.operator, personas.outsider):
        assert client_for(user).get("/assessments/due/").status_code == 403


# --- the assessment rate -----------------------------------------------------------------------


@pytest.fixture
def rate_cases(district: District, personas: Personas) -> None:
    by = personas.district_officer
    valid_until, expired = dt.date(2026, 1, 1), dt.date(2025, 5, 31)
    a1, a2, b1 = district.community_a1, district.community_a2, district.community_b1
    assessed(elder(a1, by, "甲一"), on=dt.date(2025, 1, 1), level=1, valid_until=valid_until, by=by)
    assessed(elder(a1, by, "甲二"), on=dt.date(2024, 5, 31), level=2, valid_until=expired, by=by)
    elder(a1, by, "甲三", age=70, economic_status=EconomicStatus.DIBAO)
    # Assessed but not in the target population: counted nowhere.
    assessed(elder(a1, by, "甲四", age=70), on=dt.date(2025, 1, 1), level=0, valid_until=valid_until, by=by)
    assessed(elder(a2, by, "乙一", age=82, living_arrangement=LivingArrangement.ALONE), on=dt.date(2025, 2, 1),
             level=3, valid_until=valid_until, by=by)
    assessed(elder(a2, by, "乙二", age=90), on=dt.date(2025, 2, 1), level=4, valid_until=valid_until, by=by)
    elder(b1, by, "丙一", age=72, economic_status=EconomicStatus.TEKUN)
    moved = elder(b1, by, "丙二")
    Person.objects.filter(pk=moved.pk).update(status=PersonStatus.MOVED_AWAY)


def rows_of(table: Any) -> list[tuple[Any, ...]]:
    return [(r.label, r.target, r.valid, None if r.rate is None else str(r.rate), r.levels)
            for r in [*table.rows, table.total]]


def test_the_rate_per_street_of_the_district(personas: Personas, rate_cases: None) -> None:
    table = assessment_rate(personas.district_officer, None, today=TODAY)
    assert table.region is not None
    assert table.region.name == "青溪区"
    assert rows_of(table) == [
        ("溪口街道", 5, 3, "60.0", [0, 1, 0, 1, 1]),
        ("桂花街道", 1, 0, "0.0", [0, 0, 0, 0, 0]),
        ("合计", 6, 3, "50.0", [0, 1, 0, 1, 1]),
    ]


def test_the_rate_drills_down_to_communities(district: District, personas: Personas, rate_cases: None) -> None:
    table = assessment_rate(personas.district_officer, district.street_a, today=TODAY)
    assert rows_of(table) == [
        ("杏林社区", 3, 1, "33.3", [0, 1, 0, 0, 0]),
        ("柳岸社区", 2, 2, "100.0", [0, 0, 0, 1, 1]),
        ("合计", 5, 3, "60.0", [0, 1, 0, 1, 1]),
    ]
    assert [r.name for r in table.trail] == ["青溪区", "溪口街道"]


def test_the_rate_is_one_grouped_query(
    personas: Personas, rate_cases: None, django_assert_max_num_queries: Any
) -> None:
    personas.district_officer.refresh_from_db()
    with django_assert_max_num_queries(6):
        assessment_rate(personas.district_officer, None, today=TODAY)


def test_the_rate_page_and_its_export(district: District, personas: Personas, rate_cases: None) -> None:
    c = client_for(personas.district_officer)
    page = c.get("/assessments/rate/").content.decode()
    assert "溪口街道" in page
    assert "60.0%" in page
    assert "50.0%" in page
    assert f"?region={district.street_a.pk}" in page
    drilled = c.get("/assessments/rate/", {"region": district.street_a.pk}).content.decode()
    assert "33.3%" in drilled
    assert "100.0%" in drilled
    response = c.get("/assessments/rate/", {"region": district.street_a.pk, "format": "xlsx"})
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = [[cell.value for cell in row] for row in sheet.iter_rows(min_row=4)]
    assert rows[0][:6] == ["杏林社区", "330199001001", 3, 1, 2, 33.3]
    assert rows[-1][:6] == ["合计", None, 5, 3, 2, 60.0]
    assert rows[-1][6:] == [0, 1, 0, 1, 1]


def test_a_community_worker_sees_the_rate_of_her_community_only(
    district: District, personas: Personas, rate_cases: None
) -> None:
    table = assessment_rate(personas.community_worker, None, today=TODAY)
    assert rows_of(table) == [("杏林社区", 3, 1, "33.3", [0, 1, 0, 0, 0]), ("合计", 3, 1, "33.3", [0, 1, 0, 0, 0])]
    c = client_for(personas.community_worker)
    assert c.get("/assessments/rate/", {"region": district.community_a2.pk}).status_code == 404
    assert c.get("/assessments/rate/", {"region": district.district.pk}).status_code == 404
    assert c.get("/assessments/rate/", {"region": "x"}).status_code == 404


def test_the_rate_page_needs_the_capability(personas: Personas) -> None:
    for user in (personas.caregiver, personas.operator, personas.outsider):
        assert client_for(user).get("/assessments/rate/").status_code == 403


# --- the district's parameters -----------------------------------------------------------------


def settings_state(district: District) -> Any:
    return list(AssessmentSettings.objects.filter(district=district.district).values_list(
        "interval_months", "objection_days", "due_soon_days"))


def test_a_district_officer_changes_the_parameters(district: District, personas: Personas) -> None:
    c = client_for(personas.district_officer)
    page = c.get("/assessments/settings/").content.decode()
    assert 'value="12"' in page
    assert 'value="15"' in page
    assert 'value="30"' in page
    assert "平台默认值" in page
    response = c.post("/assessments/settings/", {"interval_months": 6, "objection_days": 20, "due_soon_days": 45})
    assert response.status_code == 302
    assert settings_state(district) == [(6, 20, 45)]
    assert "评估参数已保存" in c.get(response["Location"]).content.decode()


@pytest.mark.parametrize(("field", "value", "message"), [
    ("interval_months", "0", "复评周期须在 1 到 60 个月之间"),
    ("interval_months", "61", "复评周期须在 1 到 60 个月之间"),
    ("objection_days", "0", "异议期须在 1 到 90 天之间"),
    ("due_soon_days", "181", "到期提醒须在 0 到 180 天之间"),
    ("interval_months", "", "请填写复评周期"),
    ("objection_days", "半个月", "请填写整数"),
])
def test_invalid_parameters_are_refused_with_a_message(
    district: District, personas: Personas, field: str, value: str, message: str
) -> None:
    data = {"interval_months": "12", "objection_days": "15", "due_soon_days": "30", field: value}
    response = client_for(personas.district_officer).post("/assessments/settings/", data)
    assert response.status_code == 200
    assert message in response.content.decode()
    assert settings_state(district) == []


def test_street_staff_see_the_parameters_read_only(district: District, personas: Personas) -> None:
    AssessmentSettings.objects.create(district=district.district, interval_months=9)
    c = client_for(personas.street_officer)
    page = c.get("/assessments/settings/").content.decode()
    assert 'value="9"' in page
    assert "disabled" in page
    assert "保存</button>" not in page
    response = c.post("/assessments/settings/", {"interval_months": 24, "objection_days": 15, "due_soon_days": 30})
    assert response.status_code == 403
    assert settings_state(district) == [(9, 15, 30)]


def test_the_parameters_page_needs_the_capability(district: District, personas: Personas) -> None:
    for user in (personas.caregiver, personas.outsider):
        assert client_for(user).get("/assessments/settings/").status_code == 403
    stranger = make_user("other_district", None, None)
    assert client_for(stranger).post("/assessments/settings/", {"interval_months": 1}).status_code == 403
    assert settings_state(district) == []
    assert Role.DISTRICT_OFFICER  # the only role holding CONFIGURE_ASSESSMENT
