"""A small service world on top of the test district: a fund, a catalogue with prices, a provider
under contract for street A with a station, caregivers with qualifications and accounts, a provider
manager, and elders with coordinates.

Coordinates are around 30.2500 N, 120.1500 E; 0.001 degree of latitude is about 111 m.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sanshe.accounts.models import Organization, Role, User
from sanshe.catalog.models import (
    Caregiver,
    CaregiverQualification,
    Contract,
    ContractItem,
    ContractStatus,
    Facility,
    FacilityKind,
    Price,
    PriceList,
    Qualification,
    ServiceCategory,
    ServiceItem,
    TravelMode,
    Unit,
)
from sanshe.eligibility.models import Fund
from sanshe.people.models import Person
from tests.factories import District, Personas, make_person, make_user

BASE_LAT = Decimal("30.250000")
BASE_LON = Decimal("120.150000")
EVERY_DAY = [1, 2, 3, 4, 5, 6, 7]


@dataclass
class ServiceWorld:
    d: District
    p: Personas
    fund: Fund
    meal: ServiceItem
    cleaning: ServiceItem
    bath: ServiceItem  # needs the caregiver certificate
    nursing: ServiceItem  # needs a nurse licence (家庭病床)
    price_list: PriceList
    contract: Contract
    station: Facility
    manager: User  # the provider's manager
    # Caregivers: `near` lives at the station; `far` 6 km away (outside a 15-minute e-bike circle);
    # `certified` holds the caregiver certificate; `nurse` the nurse licence.
    near: Caregiver
    far: Caregiver
    certified: Caregiver
    nurse: Caregiver
    elder: Person
    other_provider: Organization
    extra: dict[str, Any] = field(default_factory=dict)


def make_item(d: District, code: str, name: str, category: str, unit: str, minutes: int,
              qualification: str = "", tasks: list[str] | None = None) -> ServiceItem:
    return ServiceItem.objects.create(
        district=d.district, code=code, name=name, category=category, unit=unit, standard_minutes=minutes,
        required_qualification=qualification, tasks=tasks or [],
    )


def make_caregiver(provider: Organization, name: str, *, lat: Decimal, lon: Decimal, username: str = "",
                   qualifications: tuple[str, ...] = (), station: Facility | None = None,
                   mode: str = TravelMode.EBIKE, expires_on: dt.date | None = None) -> Caregiver:
    user = make_user(username, provider, Role.CAREGIVER, full_name=name) if username else None
    caregiver = Caregiver.objects.create(
        provider=provider, user=user, name=name, phone="13800000000", station=station, home_latitude=lat,
        home_longitude=lon, travel_mode=mode, work_days=EVERY_DAY, shift_start=dt.time(7, 0),
        shift_end=dt.time(19, 0), insurance_policy_no="PICC-2026-001", insurance_expires_on=dt.date(2027, 12, 31),
    )
    for q in qualifications:
        CaregiverQualification.objects.create(
            caregiver=caregiver, qualification=q, certificate_no=f"{q[:4].upper()}-{caregiver.pk}",
            expires_on=expires_on,
        )
    return caregiver


def build_service_world(d: District, p: Personas) -> ServiceWorld:
    fund = Fund.objects.create(district=d.district, code="elder_care", name="居家养老服务补贴资金")
    meal = make_item(d, "MEAL01", "助餐送餐", ServiceCategory.MEAL, Unit.MEAL, 20, tasks=["送餐到户", "查看进食情况"])
    cleaning = make_item(d, "CLEAN01", "居室清洁", ServiceCategory.CLEANING, Unit.HOUR, 60,
                         tasks=["清扫地面", "整理床铺", "清洁厨卫", "倒垃圾"])
    bath = make_item(d, "BATH01", "上门助浴", ServiceCategory.BATH, Unit.VISIT, 60,
                     Qualification.CAREGIVER_CERTIFICATE, tasks=["测量体温血压", "协助洗浴", "皮肤检查", "更换衣物"])
    nursing = make_item(d, "MED01", "家庭病床护理", ServiceCategory.MEDICAL, Unit.VISIT, 45,
                        Qualification.NURSE_LICENCE, tasks=["生命体征监测", "遵医嘱护理", "用药指导"])
    price_list = PriceList.objects.create(district=d.district, name="2026年居家养老服务价格", effective_from=dt.date(2026, 1, 1),
                                          created_by=p.district_officer)
    for item, price in ((meal, "15.00"), (cleaning, "40.00"), (bath, "80.00"), (nursing, "100.00")):
        Price.objects.create(price_list=price_list, item=item, standard_price=Decimal(price),
                             low_cost_copay=Decimal(price) / 5, paid_price=Decimal(price) * Decimal("1.2"))
    contract = Contract.objects.create(
        district=d.district, provider=d.provider, number="QX-2026-001", title="2026年溪口街道居家养老上门服务",
        fund=fund, starts_on=dt.date(2026, 1, 1), ends_on=dt.date(2027, 12, 31), status=ContractStatus.ACTIVE,
        created_by=p.district_officer,
    )
    contract.service_area.add(d.street_a)
    for item, price in ((meal, "15.00"), (cleaning, "40.00"), (bath, "80.00"), (nursing, "100.00")):
        ContractItem.objects.create(contract=contract, item=item, price=Decimal(price))
    station = Facility.objects.create(
        provider=d.provider, kind=FacilityKind.SERVICE_STATION, name="杏林居家养老服务站", region=d.community_a1,
        address="杏林社区幸福路1号", latitude=BASE_LAT, longitude=BASE_LON,
    )
    manager = make_user("providerboss", d.provider, Role.PROVIDER_MANAGER, full_name="陈站长")
    near = make_caregiver(d.provider, "刘护理", lat=BASE_LAT, lon=BASE_LON, username="near", station=station)
    far = make_caregiver(d.provider, "马护理", lat=BASE_LAT + Decimal("0.054"), lon=BASE_LON, username="far")
    certified = make_caregiver(d.provider, "周护理", lat=BASE_LAT + Decimal("0.002"), lon=BASE_LON,
                               username="certified", qualifications=(Qualification.CAREGIVER_CERTIFICATE,))
    nurse = make_caregiver(d.provider, "吴护士", lat=BASE_LAT, lon=BASE_LON + Decimal("0.002"), username="nurse",
                           qualifications=(Qualification.NURSE_LICENCE, Qualification.CAREGIVER_CERTIFICATE))
    elder = make_person(d.community_a1, by=p.community_worker, name="钱老太", birth_date=dt.date(1940, 5, 1),
                        latitude=BASE_LAT + Decimal("0.003"), longitude=BASE_LON + Decimal("0.001"))
    other = Organization.objects.create(name="桂花家政服务有限公司", kind="provider", region=d.district)
    return ServiceWorld(
        d=d, p=p, fund=fund, meal=meal, cleaning=cleaning, bath=bath, nursing=nursing, price_list=price_list,
        contract=contract, station=station, manager=manager, near=near, far=far, certified=certified, nurse=nurse,
        elder=elder, other_provider=other,
    )
