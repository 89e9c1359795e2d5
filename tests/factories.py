"""Small, explicit builders for tests: a two-street district, personas and people."""

from __future__ import annotations

import base64
import datetime as dt
import io
import itertools
from dataclasses import dataclass
from typing import Any

from django.test import Client
from PIL import Image, ImageDraw

from sanshe.accounts import actions as account_actions
from sanshe.accounts.models import Organization, OrganizationKind, Region, RegionLevel, Role, User
from sanshe.lib.idnumber import make_id_number
from sanshe.people import actions as people_actions
from sanshe.people.models import Person

PASSWORD = "Sanshe-test-2026!"
_seq = itertools.count(1)


@dataclass
class District:
    district: Region
    street_a: Region
    street_b: Region
    community_a1: Region
    community_a2: Region
    community_b1: Region
    bureau: Organization
    street_office_a: Organization
    committee_a1: Organization
    committee_a2: Organization
    provider: Organization
    social_work_agency: Organization


def build_district() -> District:
    d = Region.objects.create(code="330199000000", name="青溪区", level=RegionLevel.DISTRICT)
    sa = Region.objects.create(code="330199001000", name="溪口街道", level=RegionLevel.STREET, parent=d)
    sb = Region.objects.create(code="330199002000", name="桂花街道", level=RegionLevel.STREET, parent=d)
    a1 = Region.objects.create(code="330199001001", name="杏林社区", level=RegionLevel.COMMUNITY, parent=sa)
    a2 = Region.objects.create(code="330199001002", name="柳岸社区", level=RegionLevel.COMMUNITY, parent=sa)
    b1 = Region.objects.create(code="330199002001", name="金桂社区", level=RegionLevel.COMMUNITY, parent=sb)

    def org(name: str, kind: str, region: Region) -> Organization:
        return Organization.objects.create(name=name, kind=kind, region=region)

    return District(
        district=d, street_a=sa, street_b=sb, community_a1=a1, community_a2=a2, community_b1=b1,
        bureau=org("青溪区民政局", OrganizationKind.CIVIL_AFFAIRS_BUREAU, d),
        street_office_a=org("溪口街道办事处", OrganizationKind.STREET_OFFICE, sa),
        committee_a1=org("杏林社区居委会", OrganizationKind.COMMUNITY_COMMITTEE, a1),
        committee_a2=org("柳岸社区居委会", OrganizationKind.COMMUNITY_COMMITTEE, a2),
        provider=org("青溪颐康居家养老服务中心", OrganizationKind.PROVIDER, d),
        social_work_agency=org("溪口社工服务站", OrganizationKind.SOCIAL_WORK_AGENCY, sa),
    )


def make_user(username: str, org: Organization | None = None, role: str | None = None, **extra: Any) -> User:
    user = account_actions.create_user(
        username=username, password=PASSWORD, full_name=extra.pop("full_name", username), check_password=False,
        **extra,
    )
    if org is not None and role is not None:
        account_actions.add_membership(user, organization=org, role=role)
    return user


@dataclass
class Personas:
    admin: User
    district_officer: User
    street_officer: User
    community_worker: User
    neighbour_worker: User
    social_worker: User
    caregiver: User
    operator: User
    auditor: User
    outsider: User


def build_personas(d: District) -> Personas:
    return Personas(
        admin=make_user("admin", d.bureau, Role.ADMIN),
        district_officer=make_user("district", d.bureau, Role.DISTRICT_OFFICER, full_name="王民政"),
        street_officer=make_user("street", d.street_office_a, Role.STREET_OFFICER, full_name="李街道"),
        community_worker=make_user("worker", d.committee_a1, Role.ELDER_ASSISTANT, full_name="赵助老",
                                   mobile="13900000001"),
        neighbour_worker=make_user("neighbour", d.committee_a2, Role.ELDER_ASSISTANT, full_name="钱邻居"),
        social_worker=make_user("social", d.social_work_agency, Role.SOCIAL_WORKER),
        caregiver=make_user("caregiver", d.provider, Role.CAREGIVER),
        operator=make_user("operator", d.bureau, Role.OPERATOR),
        auditor=make_user("auditor", d.bureau, Role.AUDITOR, full_name="孙审计"),
        outsider=make_user("outsider"),
    )


def make_person(region: Region, *, by: User, **values: Any) -> Person:
    birth = values.pop("birth_date", dt.date(1945, 3, 8))
    sex = values.pop("sex", "2")
    seq = next(_seq)
    sequence = seq * 2 if sex == "2" else seq * 2 + 1
    data: dict[str, Any] = {
        "name": "张三丰",
        "sex": sex,
        "birth_date": birth,
        "id_number": make_id_number("330199", birth, sequence % 1000),
        "residence_region": region,
        "address": f"{region.name}幸福路{seq}号",
        "phone": f"139{seq:08d}",
    }
    data.update(values)
    return people_actions.create_person(values=data, acting_user=by)


class Agency:
    """An assessment agency with a manager and four assessors (reviews need fresh assessors)."""

    def __init__(self, d: District, name: str = "青溪康评老年人能力评估中心", prefix: str = "",
                 credit_code: str = "52330199MJA1234567") -> None:
        self.org = Organization.objects.create(name=name, kind=OrganizationKind.ASSESSMENT_AGENCY, region=d.district,
                                               credit_code=credit_code)
        self.assessor_1 = make_user(f"{prefix}assessor1", self.org, Role.ASSESSOR, full_name=f"{prefix}周评估")
        self.assessor_2 = make_user(f"{prefix}assessor2", self.org, Role.ASSESSOR, full_name=f"{prefix}吴评估")
        self.assessor_3 = make_user(f"{prefix}assessor3", self.org, Role.ASSESSOR, full_name=f"{prefix}孙评估")
        self.assessor_4 = make_user(f"{prefix}assessor4", self.org, Role.ASSESSOR, full_name=f"{prefix}李评估")
        self.manager = make_user(f"{prefix}agencyboss", self.org, Role.AGENCY_MANAGER, full_name=f"{prefix}郑主任")


def client_for(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def signature_png() -> str:
    """A drawn signature as the phone's signature pad sends it (PNG data URL)."""
    image = Image.new("RGBA", (300, 100), (255, 255, 255, 0))
    ImageDraw.Draw(image).line([(20, 70), (80, 20), (140, 80), (200, 30), (280, 60)], fill=(20, 20, 80, 255), width=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()
