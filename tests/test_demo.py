"""The demo district: generate_demo and demo_accounts."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from sanshe.accounts.models import Membership, Organization, OrganizationKind, Region, RegionLevel, Role, User
from sanshe.core.crypto import id_blind_index, id_cipher
from sanshe.demo import data
from sanshe.demo.generator import IdSlots, make_credit_code
from sanshe.lib.idnumber import parse_id_number
from sanshe.lib.phone import normalize_phone
from sanshe.people.actions import next_file_number
from sanshe.people.codes import CHRONIC_CONDITIONS, PersonStatus
from sanshe.people.models import Contact, Person, StatusChange

pytestmark = pytest.mark.django_db

PEOPLE = 300


def run(*args: Any, **options: Any) -> str:
    out = io.StringIO()
    call_command("generate_demo", *args, stdout=out, **options)
    return out.getvalue()


@pytest.fixture
def var_dir(settings: Any, tmp_path: Path) -> Path:
    settings.VAR_DIR = tmp_path
    settings.DEMO_MODE = True  # --reset is refused outside demo mode
    return tmp_path


@pytest.fixture
def demo(var_dir: Path) -> Path:
    run(people=PEOPLE, force=True)
    return var_dir


def accounts_in(var_dir: Path) -> dict[str, dict[str, str]]:
    accounts: dict[str, dict[str, str]] = json.loads((var_dir / "demo-accounts.json").read_text(encoding="utf-8"))
    return accounts


def people_snapshot() -> list[tuple[Any, ...]]:
    return [
        (p.file_number, p.name, p.sex, p.birth_date, id_cipher().decrypt(p.id_number_cipher), p.phone, p.address,
         p.status, p.economic_status)
        for p in Person.objects.order_by("file_number")
    ]


def test_it_builds_a_district_of_streets_and_communities(demo: Path) -> None:
    district = Region.objects.get(level=RegionLevel.DISTRICT)
    assert (district.code, district.name) == ("330199000000", "青溪区")
    streets = Region.objects.filter(level=RegionLevel.STREET)
    communities = Region.objects.filter(level=RegionLevel.COMMUNITY)
    assert streets.count() >= 3
    assert communities.count() >= 12
    assert all(s.parent == district for s in streets)
    assert all(c.parent is not None and c.parent.level == RegionLevel.STREET for c in communities)
    assert all(c.code.startswith(c.parent.prefix) for c in communities if c.parent)
    assert communities.filter(name__endswith="村").exists()


def test_it_creates_organisations_of_every_kind(demo: Path) -> None:
    assert set(Organization.objects.values_list("kind", flat=True)) == set(OrganizationKind.values)
    assert Organization.objects.filter(kind=OrganizationKind.COMMUNITY_COMMITTEE).count() == Region.objects.filter(
        level=RegionLevel.COMMUNITY).count()
    assert Organization.objects.filter(kind=OrganizationKind.PROVIDER).count() == 3


def test_it_creates_one_account_per_role_and_writes_the_passwords_to_var(demo: Path) -> None:
    accounts = accounts_in(demo)
    # Every role, plus a second assessor: assessments are done by two assessors on site.
    # and a second district officer: entitlements are approved by another person than their maker.
    assert set(accounts) == {*Role.values, "assessor_2", "district_officer_2"}
    for key, entry in accounts.items():
        role = {"assessor_2": "assessor", "district_officer_2": "district_officer"}.get(key, key)
        user = User.objects.get(username=entry["username"])
        assert user.check_password(entry["password"])
        assert len(entry["password"]) >= 12
        assert entry["role_label"] == Role(role).label
        assert Membership.objects.filter(user=user, role=role, organization__name=entry["organization"]).exists()
    # Besides the demo logins: the staff of the other communities and streets who sign approvals.
    assert User.objects.filter(username__startswith="demo_").count() == len(accounts)
    assert set(User.objects.exclude(username__startswith="demo_").values_list("memberships__role", flat=True)) <= {
        Role.ELDER_ASSISTANT, Role.STREET_OFFICER}
    assert (demo / "demo-accounts.json").stat().st_mode & 0o077 == 0


def test_a_demo_account_can_sign_in(demo: Path) -> None:
    entry = accounts_in(demo)[Role.ELDER_ASSISTANT]
    c = Client()
    response = c.post("/login/", {"login": entry["username"], "password": entry["password"]}, follow=True)
    assert response.redirect_chain[-1][0] == "/"
    assert "社区助老员/信息员" in response.content.decode()


def test_the_community_worker_sees_only_their_community(demo: Path) -> None:
    entry = accounts_in(demo)[Role.ELDER_ASSISTANT]
    c = Client()
    c.force_login(User.objects.get(username=entry["username"]))
    response = c.get("/people/")
    assert response.status_code == 200
    outsider = Person.objects.exclude(residence_region__code=data.DEMO_COMMUNITY).first()
    assert outsider is not None
    assert c.get(f"/people/{outsider.pk}/").status_code == 404


def test_every_id_number_decrypts_to_a_valid_number_matching_birth_date_and_sex(demo: Path) -> None:
    people = list(Person.objects.all())
    assert len(people) == PEOPLE
    for person in people:
        number = id_cipher().decrypt(person.id_number_cipher)
        parsed = parse_id_number(number)
        assert (parsed.birth_date, parsed.sex) == (person.birth_date, person.sex)
        assert person.id_number_index == id_blind_index(number)
        assert person.id_number_masked == number[:6] + "*" * 8 + number[-4:]
    assert Person.objects.filter(id_number_masked__startswith="330199").count() > PEOPLE * 0.7


def test_people_are_elders_living_inside_the_district(demo: Path) -> None:
    today = timezone.localdate()
    south, north, west, east = data.DISTRICT_BOX
    for person in Person.objects.select_related("residence_region"):
        assert 60 <= person.age(today) <= 105
        assert person.residence_region.level == RegionLevel.COMMUNITY
        assert person.latitude is not None
        assert person.longitude is not None
        assert south <= float(person.latitude) <= north
        assert west <= float(person.longitude) <= east
        assert person.name_initials.isascii()
        assert 2 <= len(person.name) <= 3
        assert person.name not in data.FAMOUS_NAMES
        if person.phone:
            assert normalize_phone(person.phone) == person.phone
        assert set(person.chronic_conditions) <= set(CHRONIC_CONDITIONS)
        if person.residence_region.name.endswith("村"):
            assert re.fullmatch(r".+村\d组\d+号", person.address)
        else:
            assert re.fullmatch(r".+[路街]\d+号\d+幢\d单元\d{3,4}室", person.address)


def test_the_population_is_mostly_active_with_some_of_every_status(var_dir: Path) -> None:
    run(people=2000, force=True)
    statuses = {s: Person.objects.filter(status=s).count() for s in PersonStatus.values}
    assert statuses[PersonStatus.ACTIVE] > 1700
    assert all(count > 0 for count in statuses.values())
    for person in Person.objects.exclude(status=PersonStatus.ACTIVE):
        assert person.status_since is not None
        assert person.status_since <= timezone.localdate()
        change = StatusChange.objects.get(person=person)
        assert (change.to_status, change.effective_date) == (person.status, person.status_since)
    alone = Person.objects.filter(living_arrangement="alone")
    assert 0.10 < alone.count() / 2000 < 0.22
    assert alone.filter(contacts__isnull=False).distinct().count() > alone.count() * 0.8
    assert Person.objects.filter(economic_status="dibao").exists()
    assert Person.objects.exclude(disability_category="").count() > 80
    assert Contact.objects.filter(is_emergency_contact=True).exists()


def test_file_numbers_are_unique_and_later_files_continue_the_sequence(demo: Path) -> None:
    numbers = list(Person.objects.values_list("file_number", flat=True))
    assert len(set(numbers)) == len(numbers)
    for region in Region.objects.filter(level=RegionLevel.COMMUNITY):
        count = Person.objects.filter(residence_region=region).count()
        assert region.next_file_seq == count + 1
    region = Region.objects.get(code=data.DEMO_COMMUNITY)
    assert not Person.objects.filter(file_number=next_file_number(region)).exists()


def test_the_same_seed_gives_the_same_people(var_dir: Path) -> None:
    run(people=200, seed=7, force=True)
    first = people_snapshot()
    run(people=200, seed=7, force=True, reset=True)
    assert people_snapshot() == first
    run(people=200, seed=8, force=True, reset=True)
    assert people_snapshot() != first


def test_reset_starts_again_with_new_passwords(demo: Path) -> None:
    before = accounts_in(demo)
    run(people=50, force=True, reset=True)
    after = accounts_in(demo)
    assert Person.objects.count() == 50
    # the second assessor and the second district officer
    assert User.objects.filter(username__startswith="demo_").count() == len(Role.values) + 2
    assert all(before[role]["password"] != after[role]["password"] for role in Role.values)


def test_if_empty_does_nothing_when_the_district_exists(demo: Path) -> None:
    before = accounts_in(demo)
    out = run(people=50, force=True, if_empty=True)
    assert "已存在" in out
    assert Person.objects.count() == PEOPLE
    assert accounts_in(demo) == before


def test_it_refuses_to_generate_over_existing_regions_without_reset(demo: Path) -> None:
    with pytest.raises(CommandError, match="--reset"):
        run(people=10, force=True)
    assert Person.objects.count() == PEOPLE


def test_it_refuses_outside_demo_mode_unless_forced(var_dir: Path, settings: Any) -> None:
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="SANSHE_DEMO=1"):
        run(people=10)
    assert not Region.objects.exists()
    assert not (var_dir / "demo-accounts.json").exists()
    settings.DEMO_MODE = True
    run(people=10)
    assert Person.objects.count() == 10


def test_demo_accounts_lists_every_role_with_its_password(demo: Path) -> None:
    out = io.StringIO()
    call_command("demo_accounts", stdout=out)
    text = out.getvalue()
    for _role, entry in accounts_in(demo).items():
        assert entry["username"] in text
        assert entry["password"] in text
        assert entry["role_label"] in text


def test_demo_accounts_explains_when_nothing_was_generated(var_dir: Path) -> None:
    out = io.StringIO()
    call_command("demo_accounts", stdout=out)
    assert "尚未生成演示账号" in out.getvalue()


def test_id_slots_never_hand_out_the_same_number_twice() -> None:
    slots = IdSlots()
    birth = dt.date(1950, 5, 1)
    numbers = [slots.take("330199", birth, sex) for sex in ("1", "2") for _ in range(600)]
    assert len(set(numbers)) == len(numbers)
    for number in numbers:
        assert parse_id_number(number).birth_date == birth
    assert sum(n.startswith("330199") for n in numbers) == 1000  # 500 per sex, then a spare area code


@pytest.mark.parametrize(
    ("prefix", "area", "serial"), [("11", "330199", 1037), ("52", "330199", 1259), ("91", "330199", 1444)]
)
def test_credit_codes_carry_a_valid_check_character(prefix: str, area: str, serial: int) -> None:
    code = make_credit_code(prefix, area, serial)
    chars = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = [pow(3, i, 31) for i in range(17)]
    assert len(code) == 18
    assert (sum(chars.index(c) * w for c, w in zip(code[:17], weights, strict=True)) + chars.index(code[17])) % 31 == 0


def test_reset_is_refused_outside_demo_mode_even_with_force(demo: Path, settings: Any) -> None:
    settings.DEMO_MODE = False
    people = Person.objects.count()
    with pytest.raises(CommandError, match="演示模式"):
        run(people=10, force=True, reset=True)
    assert Person.objects.count() == people


def test_most_people_are_assessed_with_a_spread_of_levels_and_some_overdue(demo: Path) -> None:
    from sanshe.assessments.models import Assessment, AssessmentStatus, CapabilityRecord

    active = Person.objects.filter(status=PersonStatus.ACTIVE).count()
    records = CapabilityRecord.objects.count()
    assert 0.6 * active < records <= active
    levels = set(CapabilityRecord.objects.values_list("level", flat=True))
    assert {0, 1, 2} <= levels
    assert CapabilityRecord.objects.filter(valid_until__lt=timezone.localdate()).exists()  # overdue
    published = Assessment.objects.filter(status=AssessmentStatus.PUBLISHED).first()
    assert published is not None
    assert published.signatures.count() == 3
    assert published.result["total"] == published.total_score


def test_the_agency_has_requests_to_book_and_its_assessors_visits_to_make(demo: Path) -> None:
    from sanshe.assessments.models import Assessment, AssessmentStatus

    accounts = accounts_in(demo)
    assessor = User.objects.get(username=accounts["assessor"]["username"])
    assert Assessment.objects.filter(status=AssessmentStatus.ASSIGNED).exists()
    assert Assessment.objects.filter(status=AssessmentStatus.SCHEDULED, assessor_1=assessor).exists()


def test_the_seed_policies_are_in_force_with_this_months_entitlements(demo: Path) -> None:
    from sanshe.eligibility.models import Entitlement, Policy

    assert Policy.objects.filter(code__startswith="home_care_").count() == 4
    month = timezone.localdate().replace(day=1)
    assert Entitlement.objects.filter(month=month).exists()
    # Take the highest, never double: at most one home-care subsidy per person.
    per_person = Entitlement.objects.filter(month=month, policy__exclusivity_group="home_care_subsidy")
    assert per_person.count() == per_person.values("person").distinct().count()


def test_last_month_is_in_force_and_this_month_is_on_public_notice(demo: Path) -> None:
    from sanshe.eligibility.engine import previous_month
    from sanshe.eligibility.models import Application, ApprovalBatch, Entitlement, EntitlementStatus

    month = timezone.localdate().replace(day=1)
    last = previous_month(month)
    assert set(ApprovalBatch.objects.filter(month=last).values_list("status", flat=True)) == {"active"}
    assert set(ApprovalBatch.objects.filter(run__month=month).values_list("status", flat=True)) == {"notice"}
    assert not Entitlement.objects.filter(month=last, status=EntitlementStatus.PENDING).exists()
    # Every batch passed three different people.
    for batch in ApprovalBatch.objects.filter(run__month=month):
        assert len(set(batch.steps.values_list("decided_by", flat=True))) == 3
    assert Application.objects.exists()
