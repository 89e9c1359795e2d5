"""The demo district 青溪区: regions, organisations, one account per role and any number of
fictional elders, drawn from the tables in data.py with a seeded random generator.

The same seed gives the same people (names, ID numbers, ages, addresses …) on the same day;
only the ciphertexts differ, because every encryption draws a fresh nonce. People are drawn and
inserted in batches, so memory stays flat from a few hundred people to millions.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
import os
import random
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, Generic, Protocol, TypeVar

from django.apps import apps
from django.conf import settings
from django.core.management.color import no_style
from django.db import connection, transaction
from django.utils import timezone

from sanshe.accounts import actions as account_actions
from sanshe.accounts.models import Organization, OrganizationKind, Region, Role
from sanshe.core.bulk import bulk_insert
from sanshe.core.crypto import id_blind_index, id_cipher
from sanshe.demo import data
from sanshe.lib.idnumber import make_id_number
from sanshe.lib.masking import mask_id_number
from sanshe.lib.names import pinyin_initials
from sanshe.people.actions import file_number_for
from sanshe.people.codes import (
    DisabilityCategory,
    EconomicStatus,
    LivingArrangement,
    MaritalStatus,
    PersonStatus,
    Relation,
    Sex,
    TekunSupportMode,
)
from sanshe.people.models import Contact, Person, StatusChange

BATCH_SIZE = 5_000
PROGRESS_EVERY = 100_000
ACCOUNTS_FILE = "demo-accounts.json"

T = TypeVar("T")


class Writer(Protocol):
    def write(self, text: str, /) -> Any: ...


@dataclass(frozen=True, slots=True)
class Summary:
    regions: int
    organizations: int
    accounts: int
    people: int
    contacts: int
    seconds: float


class Weighted(Generic[T]):
    """Draw from fixed values with fixed weights; one random() call per draw."""

    def __init__(self, pairs: Sequence[tuple[T, float]]) -> None:
        self.values = [value for value, _ in pairs]
        self.cum_weights = list(itertools.accumulate(weight for _, weight in pairs))

    def draw(self, rng: random.Random) -> T:
        return rng.choices(self.values, cum_weights=self.cum_weights)[0]


def _combined(first: str, second: str) -> list[tuple[str, float]]:
    return [(a + b, 0.15) for a in first for b in second if a != b]


SURNAMES = Weighted(data.SURNAMES)
GIVEN: dict[str, Weighted[str]] = {
    Sex.MALE: Weighted([*data.ELDER_GIVEN_MALE, *_combined(data.ELDER_MALE_FIRST, data.ELDER_MALE_SECOND)]),
    Sex.FEMALE: Weighted([*data.ELDER_GIVEN_FEMALE, *_combined(data.ELDER_FEMALE_FIRST, data.ELDER_FEMALE_SECOND)]),
}
SINGLE_GIVEN: dict[str, str] = {Sex.MALE: data.ELDER_SINGLE_MALE, Sex.FEMALE: data.ELDER_SINGLE_FEMALE}
AGE_BANDS = Weighted([(band, band[2]) for band in data.AGE_BANDS])
MOBILE_PREFIXES = Weighted(data.MOBILE_PREFIXES)
LOCAL_ID_AREAS = Weighted(data.LOCAL_ID_AREAS)
ETHNICITIES = Weighted(data.ETHNICITIES)
DISABILITY_CATEGORIES = Weighted([
    (DisabilityCategory.PHYSICAL, 40), (DisabilityCategory.HEARING, 22), (DisabilityCategory.VISION, 16),
    (DisabilityCategory.MULTIPLE, 10), (DisabilityCategory.MENTAL, 5), (DisabilityCategory.INTELLECTUAL, 3),
    (DisabilityCategory.SPEECH, 2),
])
DISABILITY_GRADES = Weighted([(1, 12), (2, 25), (3, 30), (4, 33)])
FAMILY_RELATIONS = Weighted([
    (Relation.SON, 34), (Relation.DAUGHTER, 34), (Relation.CHILD_IN_LAW, 6), (Relation.GRANDCHILD, 8),
    (Relation.SIBLING, 4), (Relation.OTHER_RELATIVE, 4), (Relation.NEIGHBOUR, 10),
])
NO_FAMILY_RELATIONS = Weighted([(Relation.OTHER_RELATIVE, 40), (Relation.NEIGHBOUR, 40), (Relation.GUARDIAN, 20)])


# Places and organisations.


@dataclass(frozen=True, slots=True)
class Place:
    """A community (or village) of the demo district, with what people there are drawn from."""

    region: Region
    street: data.StreetSpec
    spec: data.CommunitySpec

    @property
    def region_id(self) -> int:
        return self.region.pk


def create_regions() -> list[Region]:
    """The district, its streets and communities (parents first)."""
    regions = [account_actions.save_region(code=data.DISTRICT_CODE, name=data.DISTRICT_NAME)[0]]
    for street in data.STREETS:
        regions.append(account_actions.save_region(code=street.code, name=street.name)[0])
        for community in street.communities:
            regions.append(account_actions.save_region(code=community.code, name=community.name)[0])
    return regions


def places_of(regions: Sequence[Region]) -> list[Place]:
    by_code = {region.code: region for region in regions}
    return [
        Place(region=by_code[c.code], street=street, spec=c)
        for street in data.STREETS
        for c in street.communities
    ]


CREDIT_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_CODE_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def make_credit_code(prefix: str, area: str, serial: int) -> str:
    """A structurally valid 统一社会信用代码 (GB 32100: registrar, type, area, body, check)."""
    body = f"{prefix}{area}{serial:09d}"
    total = sum(CREDIT_CODE_CHARS.index(ch) * w for ch, w in zip(body, CREDIT_CODE_WEIGHTS, strict=True))
    return body + CREDIT_CODE_CHARS[(31 - total % 31) % 31]


def create_organizations(regions: Sequence[Region], *, seed: int) -> dict[str, Organization]:
    """Every kind of organisation, keyed by name: bureau, departments, street offices, committees…"""
    rng = random.Random(f"organizations-{seed}")
    by_code = {region.code: region for region in regions}
    district = by_code[data.DISTRICT_CODE]
    rows: list[tuple[str, str, Region, str]] = [(n, k, district, p) for n, k, p in data.DISTRICT_ORGANIZATIONS]
    for street in data.STREETS:
        rows.append((street.office, OrganizationKind.STREET_OFFICE, by_code[street.code], "11"))
    rows += [(n, k, by_code[code], p) for code, n, k, p in data.STREET_ORGANIZATIONS]
    for street in data.STREETS:
        for c in street.communities:
            committee = f"{c.name}村委会" if c.is_village else f"{c.name}居委会"
            rows.append((committee, OrganizationKind.COMMUNITY_COMMITTEE, by_code[c.code], ""))
    communities = {c.code: c for street in data.STREETS for c in street.communities}
    organizations = {}
    for serial, (name, kind, region, prefix) in enumerate(rows, start=1):
        organizations[name] = account_actions.create_organization(
            name=name, kind=kind, region=region,
            credit_code=make_credit_code(prefix, data.DISTRICT_CODE[:6], 1000 + serial * 37) if prefix else "",
            contact_phone=f"{data.LANDLINE_AREA}8{rng.randrange(10**7):07d}",
            address=_organization_address(rng, region.code, communities),
        )
    return organizations


def _organization_address(rng: random.Random, code: str, communities: dict[str, data.CommunitySpec]) -> str:
    if code in communities:
        community = communities[code]
        if community.is_village:
            return draw_address(rng, community).rsplit("组", 1)[0] + "组"
        return f"{rng.choice(community.roads)}{rng.randint(1, 300)}号"
    # A street office or district body sits on a road of one of the communities it covers.
    prefix = code[:9] if code[6:9] != "000" else code[:6]
    roads = [road for c in communities.values() if c.code.startswith(prefix) for road in c.roads]
    return f"{rng.choice(roads)}{rng.randint(1, 300)}号"


def _password() -> str:
    # Random, not seeded: the demo is public, its passwords should not be.
    return secrets.token_urlsafe(12)


def create_accounts(organizations: dict[str, Organization]) -> dict[str, dict[str, str]]:
    """One account per role, each with a membership on a fitting organisation."""
    street = next(s for s in data.STREETS if s.code == data.DEMO_STREET)
    community = next(c for c in street.communities if c.code == data.DEMO_COMMUNITY)
    named = {"street": street.office, "community": f"{community.name}居委会"}
    accounts = {}
    for spec in data.ACCOUNTS:
        organization = organizations[named.get(spec.organization, spec.organization)]
        password = _password()
        user = account_actions.create_user(
            username=spec.username, password=password, full_name=spec.full_name, check_password=False
        )
        account_actions.add_membership(user, organization=organization, role=spec.role)
        accounts[spec.key or spec.role] = {
            "username": spec.username,
            "password": password,
            "full_name": spec.full_name,
            "role_label": Role(spec.role).label,
            "organization": organization.name,
        }
    missing = set(Role.values) - {spec.role for spec in data.ACCOUNTS}
    if missing:
        raise RuntimeError(f"demo accounts missing for roles {sorted(missing)}")
    return accounts


def accounts_path() -> Path:
    return Path(settings.VAR_DIR) / ACCOUNTS_FILE


def write_accounts_file(accounts: dict[str, dict[str, str]]) -> Path:
    """Write the demo passwords under var/ (git-ignored), readable by the owner only."""
    path = accounts_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(accounts, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    temporary.chmod(0o600)
    os.replace(temporary, path)
    return path


def read_accounts_file() -> dict[str, dict[str, str]] | None:
    path = accounts_path()
    if not path.exists():
        return None
    accounts: dict[str, dict[str, str]] = json.loads(path.read_text(encoding="utf-8"))
    return accounts


def reset_demo_data() -> None:
    """Empty every Sanshe table and the sessions: a demo database holds nothing else."""
    tables = [
        model._meta.db_table
        for model in apps.get_models(include_auto_created=True)
        if model.__module__.startswith("sanshe.") or model._meta.app_label == "sessions"
    ]
    statements = connection.ops.sql_flush(no_style(), tables, reset_sequences=True, allow_cascade=True)
    if connection.in_atomic_block:
        # Inside a transaction, deferred foreign-key checks still pending would make PostgreSQL
        # refuse to TRUNCATE; running them now clears the queue.
        connection.check_constraints()
    connection.ops.execute_sql_flush(statements)


# People: pure drawing, no database access.


@dataclass(slots=True)
class ContactDraft:
    name: str
    relation: str
    phone: str
    address: str = ""
    is_emergency_contact: bool = False
    is_guardian: bool = False
    may_confirm_services: bool = False


@dataclass(slots=True)
class PersonDraft:
    values: dict[str, Any]  # Person fields, except the file number and the ID-number columns
    id_number: str
    contacts: list[ContactDraft] = field(default_factory=list)
    status_reason: str = ""


class IdSlots:
    """Hands out distinct 3-digit sequence numbers per area code, birth date and sex.

    Memory is bounded by the number of distinct (area, birth date) pairs, not by people.
    """

    # A county issues at most 500 numbers per birth date and sex; beyond that (tens of millions
    # of people) the number is issued under another of the demo's area codes.
    SPARE_AREAS = tuple(dict.fromkeys([a for a, _ in data.LOCAL_ID_AREAS] + [a for a, _ in data.OUTSIDE_ORIGINS]))

    def __init__(self) -> None:
        self._taken: dict[int, int] = {}

    def take(self, area: str, birth_date: dt.date, sex: str) -> str:
        day = birth_date.toordinal()
        for candidate in (area, *self.SPARE_AREAS):
            key = (int(candidate) * 1_000_000 + day) * 10 + int(sex)
            used = self._taken.get(key, 0)
            if used < 500:
                break
        else:
            raise RuntimeError(f"no ID sequence numbers left for {birth_date}")
        self._taken[key] = used + 1
        # Spread the numbers over the range: odd sequence numbers are men, even ones women.
        slot = (day * 31 + used * 7) % 500
        return make_id_number(candidate, birth_date, slot * 2 + (1 if sex == Sex.MALE else 0))


def draw_name(rng: random.Random, sex: str, *, surname: str = "") -> str:
    """A plausible elder's name: common surname, one- or two-character given name."""
    while True:
        family = surname or SURNAMES.draw(rng)
        given = rng.choice(SINGLE_GIVEN[sex]) if rng.random() < 0.12 else GIVEN[sex].draw(rng)
        if family + given not in data.FAMOUS_NAMES:
            return family + given


def _draw_younger_name(rng: random.Random, pool: Sequence[str], *, surname: str = "") -> str:
    while True:
        name = (surname or SURNAMES.draw(rng)) + rng.choice(pool)
        if name not in data.FAMOUS_NAMES:
            return name


def _years_before(day: dt.date, years: int) -> dt.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a common year
        return day.replace(year=day.year - years, day=28)


def draw_birth(rng: random.Random, today: dt.date) -> tuple[int, str, dt.date]:
    """Age (60-105, census-shaped), sex (more women among the oldest) and birth date."""
    first, last, _, female_share = AGE_BANDS.draw(rng)
    rate = 0.08 if first < 80 else (0.2 if first < 100 else 0.7)
    age = first + min(last - first, int(rng.expovariate(rate)))
    sex = Sex.FEMALE if rng.random() < female_share else Sex.MALE
    # Born on or before this day `age` years ago, and after the same day `age + 1` years ago.
    latest = _years_before(today, age)
    earliest = _years_before(today, age + 1) + dt.timedelta(days=1)
    birth = earliest + dt.timedelta(days=rng.randrange((latest - earliest).days + 1))
    return age, sex, birth


def draw_mobile(rng: random.Random) -> str:
    return MOBILE_PREFIXES.draw(rng) + f"{rng.randrange(10**8):08d}"


def draw_phone(rng: random.Random, age: int) -> str:
    if rng.random() > (0.9 if age < 90 else 0.75):
        return ""
    if rng.random() < 0.2:
        return f"{data.LANDLINE_AREA}8{rng.randrange(10**7):07d}"
    return draw_mobile(rng)


def draw_address(rng: random.Random, spec: data.CommunitySpec) -> str:
    if spec.is_village:
        return f"{spec.name}{rng.randint(1, 9)}组{rng.randint(1, 120)}号"
    floor, room = rng.randint(1, 18), rng.randint(1, 4)
    return (f"{rng.choice(spec.roads)}{rng.randint(1, 399)}号{rng.randint(1, 30)}幢"
            f"{rng.randint(1, 4)}单元{floor}{room:02d}室")


def draw_coordinates(rng: random.Random, spec: data.CommunitySpec) -> tuple[Decimal, Decimal]:
    """Jittered around the community centre, kept inside the district box."""
    spread = 0.006 if spec.is_village else 0.0035
    south, north, west, east = data.DISTRICT_BOX
    lat = spec.latitude + max(-3 * spread, min(3 * spread, rng.gauss(0, spread)))
    lng = spec.longitude + max(-3 * spread, min(3 * spread, rng.gauss(0, spread)))
    lat = max(south + 0.001, min(north - 0.001, lat))
    lng = max(west + 0.001, min(east - 0.001, lng))
    return Decimal(f"{lat:.6f}"), Decimal(f"{lng:.6f}")


def _amount(value: float) -> Decimal:
    return Decimal(max(0, int(value) // 10 * 10))


# Cumulative shares: tekun 1 %, dibao 3 %, dibao edge 2 %, low income 3 %, expenditure poverty 0.5 %,
# three-no 0.2 %; everyone else ordinary.
ECONOMY_THRESHOLDS = (
    (0.01, EconomicStatus.TEKUN), (0.04, EconomicStatus.DIBAO), (0.06, EconomicStatus.DIBAO_EDGE),
    (0.09, EconomicStatus.LOW_INCOME), (0.095, EconomicStatus.EXPENDITURE_POVERTY), (0.097, EconomicStatus.THREE_NO),
)


def draw_economy(rng: random.Random, village: bool) -> dict[str, Any]:
    """Economic status with its support mode and a monthly income (yuan)."""
    u = rng.random()
    status = next((s for threshold, s in ECONOMY_THRESHOLDS if u < threshold), EconomicStatus.ORDINARY)
    mode = ""
    if status == EconomicStatus.TEKUN:
        mode = TekunSupportMode.CENTRALIZED if rng.random() < 0.4 else TekunSupportMode.DISPERSED
    if status == EconomicStatus.ORDINARY:
        if rng.random() < 0.3:
            income = None
        elif village:
            income = _amount(min(2500, max(200, rng.gauss(900, 400))))
        else:
            income = _amount(min(9000, max(1800, rng.gauss(4300, 1100))))
    elif status in (EconomicStatus.TEKUN, EconomicStatus.THREE_NO):
        income = _amount(rng.uniform(0, 300))
    elif status == EconomicStatus.DIBAO:
        income = _amount(rng.uniform(0, 1000))
    elif status == EconomicStatus.EXPENDITURE_POVERTY:
        income = _amount(rng.uniform(1500, 3500))
    else:
        income = _amount(rng.uniform(900, 1800))
    return {"economic_status": status, "tekun_support_mode": mode, "monthly_income": income}


def draw_family(rng: random.Random, age: int, sex: str, economic_status: str) -> tuple[str, str]:
    """Marital status and living arrangement; widowhood rises with age, faster for women."""
    if economic_status in (EconomicStatus.TEKUN, EconomicStatus.THREE_NO):
        # Supported because nobody is obliged to support them: unmarried or widowed, no children.
        return (MaritalStatus.UNMARRIED if rng.random() < 0.5 else MaritalStatus.WIDOWED), LivingArrangement.ALONE
    widowed = min(0.9, 0.06 + 0.022 * (age - 60)) if sex == Sex.FEMALE else min(0.6, 0.03 + 0.011 * (age - 60))
    u = rng.random()
    if u < (0.015 if sex == Sex.MALE else 0.005):
        marital = MaritalStatus.UNMARRIED
    elif u < 0.04:
        marital = MaritalStatus.DIVORCED
    elif u < 0.04 + widowed:
        marital = MaritalStatus.WIDOWED
    else:
        marital = MaritalStatus.MARRIED
    v = rng.random()
    if marital == MaritalStatus.MARRIED:
        living = (LivingArrangement.WITH_SPOUSE if v < 0.64 else LivingArrangement.WITH_CHILDREN if v < 0.97
                  else LivingArrangement.WITH_NON_RELATIVES if v < 0.985 else LivingArrangement.ALONE)
    else:
        living = (LivingArrangement.ALONE if v < 0.5 else LivingArrangement.WITH_CHILDREN if v < 0.9
                  else LivingArrangement.WITH_SIBLINGS if v < 0.93 else LivingArrangement.WITH_RELATIVES if v < 0.97
                  else LivingArrangement.WITH_NON_RELATIVES)
    return marital, living


def draw_status(rng: random.Random, age: int, today: dt.date) -> tuple[str, dt.date | None, str]:
    """Mostly active; the oldest more often in hospital, in an institution or deceased."""
    over = age - 60
    u = rng.random()
    for share, status, longest in ((0.006 + 0.0012 * over, PersonStatus.DECEASED, 720),
                                   (0.01 + 0.0008 * over, PersonStatus.HOSPITALISED, 60),
                                   (0.003 + 0.0015 * over, PersonStatus.IN_INSTITUTION, 1500),
                                   (0.01, PersonStatus.MOVED_AWAY, 1000)):
        if u < share:
            since = today - dt.timedelta(days=rng.randint(1, longest))
            return status, since, rng.choice(data.STATUS_REASONS[status])
        u -= share
    return PersonStatus.ACTIVE, None, ""


def draw_health(rng: random.Random, age: int, sex: str, street: data.StreetSpec) -> dict[str, Any]:
    over = age - 60
    conditions = []
    for name, base, per_year in data.CHRONIC_PREVALENCE:
        share = base + per_year * over
        if name == "骨质疏松" and sex == Sex.FEMALE:
            share *= 2
        if rng.random() < min(0.85, share):
            conditions.append(name)
    values: dict[str, Any] = {
        "chronic_conditions": conditions,
        "medications": "、".join(data.MEDICATIONS[c] for c in conditions if c in data.MEDICATIONS),
        "allergies": rng.choice(data.ALLERGIES) if rng.random() < 0.05 else "",
        "disability_category": "",
        "disability_grade": None,
        "monthly_medical_costs": None,
    }
    if rng.random() < 0.065 + 0.0012 * over:
        values["disability_category"] = DISABILITY_CATEGORIES.draw(rng)
        values["disability_grade"] = DISABILITY_GRADES.draw(rng)
    if conditions and rng.random() < 0.6:
        values["monthly_medical_costs"] = _amount(80 * len(conditions) + abs(rng.gauss(0, 300)))
    signed = rng.random() < (0.7 if conditions else 0.45)
    values["family_doctor_signed"] = signed
    if signed:
        centre = f"{street.name}卫生院" if street.name.endswith("镇") else f"{street.name}社区卫生服务中心"
        values["family_doctor"] = f"{centre} {SURNAMES.draw(rng)}医生"
    else:
        values["family_doctor"] = ""
    return values


def draw_contacts(
    rng: random.Random, *, surname: str, sex: str, age: int, values: dict[str, Any], places: Sequence[Place]
) -> list[ContactDraft]:
    """Family, a neighbour or a guardian to call; nearly everyone living alone has one."""
    living = values["living_arrangement"]
    share = {LivingArrangement.ALONE: 0.92, LivingArrangement.INSTITUTION: 0.85, LivingArrangement.WITH_SPOUSE: 0.55,
             LivingArrangement.WITH_CHILDREN: 0.35}.get(living, 0.5)
    if rng.random() >= share:
        return []
    count = 2 if rng.random() < (0.6 if living == LivingArrangement.ALONE else 0.25) else 1
    supported = values["economic_status"] in (EconomicStatus.TEKUN, EconomicStatus.THREE_NO)
    no_family = supported or values["lost_only_child"]
    relations = NO_FAMILY_RELATIONS if no_family else FAMILY_RELATIONS
    needs_guardian = age >= 90 or any(c in ("阿尔茨海默病", "其他痴呆") for c in values["chronic_conditions"])
    contacts = []
    pool: Sequence[str]
    for index in range(count):
        relation = relations.draw(rng)
        # Children usually carry their father's surname; a woman's husband's surname is unknown here.
        own_line = surname if sex == Sex.MALE else ""
        if relation == Relation.SON:
            name = _draw_younger_name(rng, data.CHILD_GIVEN_MALE, surname=own_line)
        elif relation == Relation.DAUGHTER:
            name = _draw_younger_name(rng, data.CHILD_GIVEN_FEMALE, surname=own_line)
        elif relation == Relation.GRANDCHILD:
            pool = data.GRANDCHILD_GIVEN_MALE if rng.random() < 0.5 else data.GRANDCHILD_GIVEN_FEMALE
            name = _draw_younger_name(rng, pool, surname=own_line)
        elif relation == Relation.SIBLING:
            name = draw_name(rng, Sex.MALE if rng.random() < 0.5 else Sex.FEMALE, surname=surname)
        else:
            pool = data.CHILD_GIVEN_MALE if rng.random() < 0.5 else data.CHILD_GIVEN_FEMALE
            name = _draw_younger_name(rng, pool)
        address = ""
        if rng.random() < 0.4:
            place = rng.choice(places)
            address = f"{place.street.name}{draw_address(rng, place.spec)}"
        first = index == 0
        contacts.append(ContactDraft(
            name=name, relation=relation, phone=draw_mobile(rng), address=address,
            is_emergency_contact=first,
            is_guardian=first and needs_guardian and relation != Relation.NEIGHBOUR,
            may_confirm_services=first or rng.random() < 0.5,
        ))
    return contacts


def draw_person(rng: random.Random, place: Place, places: Sequence[Place], today: dt.date, slots: IdSlots) -> PersonDraft:
    """One fictional elder living in a place, with an ID number matching birth date and sex."""
    spec = place.spec
    age, sex, birth = draw_birth(rng, today)
    name = draw_name(rng, sex)
    values: dict[str, Any] = {"name": name, "sex": sex, "birth_date": birth, "ethnicity": ETHNICITIES.draw(rng),
                              "phone": draw_phone(rng, age), "residence_region_id": place.region_id}
    values.update(draw_economy(rng, spec.is_village))
    marital, living = draw_family(rng, age, sex, values["economic_status"])
    status, since, reason = draw_status(rng, age, today)
    if status == PersonStatus.IN_INSTITUTION or values["tekun_support_mode"] == TekunSupportMode.CENTRALIZED:
        living = LivingArrangement.INSTITUTION
    values.update(marital_status=marital, living_arrangement=living, status=status, status_since=since)

    lost_only_child = rng.random() < 0.006 and values["economic_status"] == EconomicStatus.ORDINARY
    if lost_only_child and living == LivingArrangement.WITH_CHILDREN:
        values["living_arrangement"] = (LivingArrangement.WITH_SPOUSE if marital == MaritalStatus.MARRIED
                                        else LivingArrangement.ALONE)
    at_home_without_children = values["living_arrangement"] in (LivingArrangement.ALONE, LivingArrangement.WITH_SPOUSE)
    values.update(
        lost_only_child=lost_only_child,
        family_planning_special=lost_only_child or rng.random() < 0.003,
        empty_nest=at_home_without_children and rng.random() < 0.45,
        left_behind=spec.is_village and at_home_without_children and rng.random() < 0.35,
        lives_with_disabled_child=values["living_arrangement"] == LivingArrangement.WITH_CHILDREN
        and rng.random() < 0.01,
        entitled_group=rng.random() < (0.03 if sex == Sex.MALE else 0.008),
        model_worker=rng.random() < 0.005,
    )
    values.update(draw_health(rng, age, sex, place.street))

    address = draw_address(rng, spec)
    latitude, longitude = draw_coordinates(rng, spec)
    values.update(address=address, latitude=latitude, longitude=longitude)
    u = rng.random()
    if u < 0.92:
        values.update(registered_region_id=place.region_id, registered_address=f"{place.street.name}{address}")
        area = LOCAL_ID_AREAS.draw(rng)
    elif u < 0.96:
        other = rng.choice(places)
        values.update(registered_region_id=other.region_id,
                      registered_address=f"{other.street.name}{draw_address(rng, other.spec)}")
        area = LOCAL_ID_AREAS.draw(rng)
    else:
        area, county = rng.choice(data.OUTSIDE_ORIGINS)
        values.update(registered_region_id=None,
                      registered_address=f"{county}{rng.choice(data.OUTSIDE_PLACES)}{rng.randint(1, 80)}号")
    id_number = slots.take(area, birth, sex)
    contacts = draw_contacts(rng, surname=name[0], sex=sex, age=age, values=values, places=places)
    return PersonDraft(values=values, id_number=id_number, contacts=contacts, status_reason=reason)


# Writing people.


class PeopleWriter:
    """Turns drafts into rows: file numbers per community, encrypted ID numbers, pinyin initials."""

    def __init__(self, places: Sequence[Place]) -> None:
        self.places = {place.region_id: place for place in places}
        self.next_seq = dict.fromkeys(self.places, 1)
        self._initials: dict[str, str] = {}
        self.people = 0
        self.contacts = 0

    def _initials_of(self, name: str) -> str:
        initials = self._initials.get(name)
        if initials is None:
            initials = self._initials[name] = pinyin_initials(name)
        return initials

    def _row(self, draft: PersonDraft) -> Person:
        region_id = draft.values["residence_region_id"]
        seq = self.next_seq[region_id]
        self.next_seq[region_id] = seq + 1
        number = draft.id_number
        return Person(
            **draft.values,
            file_number=file_number_for(self.places[region_id].region, seq),
            name_initials=self._initials_of(draft.values["name"]),
            id_number_cipher=id_cipher().encrypt(number),
            id_number_index=id_blind_index(number),
            id_number_masked=mask_id_number(number),
        )

    @transaction.atomic
    def write(self, drafts: Sequence[PersonDraft]) -> None:
        """Insert one batch with its contacts and status history, and move the file counters on."""
        people = [self._row(d) for d in drafts]
        bulk_insert(Person, people)
        if any(p.pk is None for p in people):  # COPY (and some databases) do not return ids
            ids = dict(Person.objects.filter(file_number__in=[p.file_number for p in people])
                       .values_list("file_number", "pk"))
            for person in people:
                person.pk = ids[person.file_number]
        contacts = [Contact(person_id=p.pk, name=c.name, relation=c.relation, phone=c.phone, address=c.address,
                            is_emergency_contact=c.is_emergency_contact, is_guardian=c.is_guardian,
                            may_confirm_services=c.may_confirm_services)
                    for p, d in zip(people, drafts, strict=True) for c in d.contacts]
        bulk_insert(Contact, contacts)
        bulk_insert(StatusChange, [
            StatusChange(person_id=p.pk, from_status=PersonStatus.ACTIVE, to_status=p.status,
                         effective_date=p.status_since, reason=d.status_reason)
            for p, d in zip(people, drafts, strict=True) if p.status != PersonStatus.ACTIVE and p.status_since
        ])
        touched = {d.values["residence_region_id"] for d in drafts}
        for region_id in sorted(touched):
            Region.objects.filter(pk=region_id).update(next_file_seq=self.next_seq[region_id])
        self.people += len(people)
        self.contacts += len(contacts)


def generate(people: int, seed: int, *, stdout: Writer | None = None) -> Summary:
    """Create the demo district with `people` elders; the database must hold no regions yet."""
    started = time.perf_counter()
    with transaction.atomic():
        regions = create_regions()
        organizations = create_organizations(regions, seed=seed)
        accounts = create_accounts(organizations)
    write_accounts_file(accounts)

    rng = random.Random(seed)
    places = places_of(regions)
    where = Weighted([(place, place.spec.weight) for place in places])
    today = timezone.localdate()
    slots = IdSlots()
    writer = PeopleWriter(places)
    while writer.people < people:
        size = min(BATCH_SIZE, people - writer.people)
        before = writer.people
        writer.write([draw_person(rng, where.draw(rng), places, today, slots) for _ in range(size)])
        if stdout is not None and writer.people // PROGRESS_EVERY > before // PROGRESS_EVERY:
            stdout.write(f"已生成 {writer.people:,} / {people:,} 人（{time.perf_counter() - started:.0f} 秒）\n")
    return Summary(
        regions=len(regions), organizations=len(organizations), accounts=len(accounts), people=writer.people,
        contacts=writer.contacts, seconds=time.perf_counter() - started,
    )
