"""The demo district's services: a catalogue after seed 001's service list, two price lists,
purchase contracts for the three demo providers, stations and canteens, caregivers with their
qualifications, signed care plans for assessed elders of the demo street, home care beds, and two
months of service history with a few records that the delivery checks flag.

History is written the way it would have happened: each visit is an order that was assigned,
accepted, checked in and out, and confirmed (or not), with its events; flags are computed by the
same rules the caregiver's phone uses (orders.flags) from the positions and times recorded.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import random
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from PIL import Image, ImageDraw

from sanshe.accounts.models import Organization, Region, RegionLevel, User
from sanshe.assessments.models import Assessment, AssessmentStatus
from sanshe.catalog.models import (
    Caregiver,
    CaregiverQualification,
    Contract,
    ContractItem,
    ContractStatus,
    Facility,
    FacilityKind,
    LicenceKind,
    Price,
    PriceList,
    ProviderLicence,
    Qualification,
    ServiceCategory,
    ServiceItem,
    ServiceSettings,
    TravelMode,
    Unit,
)
from sanshe.demo import data
from sanshe.demo.service_history import write_history
from sanshe.eligibility.models import Fund
from sanshe.orders.models import (
    BedAdaptation,
    BedDevice,
    CarePlan,
    CarePlanItem,
    CarePlanSignature,
    CarePlanStatus,
    HomeCareBed,
    HomeCareBedStatus,
    SignerRole,
)
from sanshe.orders.plans import funding_of
from sanshe.people.codes import PersonStatus
from sanshe.people.models import Person

Q = Qualification
# (code, name, category, unit, minutes, qualification, price, tasks) — the service list of seed 001
# (生活照料、个人护理、康复护理、医疗保健、精神慰藉) and the categories of the glossary.
ITEMS: tuple[tuple[str, str, str, str, int, str, str, tuple[str, ...]], ...] = (
    ("ZC01", "助餐送餐", ServiceCategory.MEAL, Unit.MEAL, 20, "", "15.00", ("送餐到户", "查看进食情况", "回收餐盒")),
    ("ZJ01", "居室清洁", ServiceCategory.CLEANING, Unit.HOUR, 60, "",
     "40.00", ("清扫拖地", "整理床铺", "清洁厨房卫生间", "清理垃圾")),
    ("ZJ02", "衣物洗涤", ServiceCategory.CLEANING, Unit.VISIT, 45, "", "30.00", ("收集衣物", "洗涤晾晒", "叠放归位")),
    ("ZY01", "上门助浴", ServiceCategory.BATH, Unit.VISIT, 60, Q.CAREGIVER_CERTIFICATE,
     "80.00", ("测量体温血压", "协助洗浴", "皮肤检查", "更换衣物")),
    ("SH01", "生活照料（起居护理）", ServiceCategory.REHABILITATION, Unit.HOUR, 60, Q.CAREGIVER_CERTIFICATE,
     "45.00", ("协助起床穿衣", "口腔清洁", "协助如厕", "翻身拍背")),
    ("KF01", "康复训练", ServiceCategory.REHABILITATION, Unit.VISIT, 45, Q.REHABILITATION_CERTIFICATE,
     "70.00", ("关节活动训练", "步行训练", "训练记录")),
    ("YL01", "家庭病床护理", ServiceCategory.MEDICAL, Unit.VISIT, 45, Q.NURSE_LICENCE,
     "100.00", ("生命体征监测", "遵医嘱护理", "用药指导", "护理记录")),
    ("ZY02", "陪同就医", ServiceCategory.MEDICAL, Unit.HOUR, 120, "", "50.00", ("预约挂号", "陪同就诊", "取药送回")),
    ("ZX01", "助行陪护", ServiceCategory.MOBILITY, Unit.HOUR, 60, "", "35.00", ("协助出行", "户外散步陪护")),
    ("ZG01", "代购代办", ServiceCategory.SHOPPING, Unit.VISIT, 45, "", "20.00", ("核对清单", "代购物品", "核对找零")),
    ("JS01", "精神慰藉（陪伴聊天）", ServiceCategory.COMPANIONSHIP, Unit.HOUR, 60, "",
     "30.00", ("陪伴聊天", "情绪观察", "记录需求")),
    ("WX01", "家电维修", ServiceCategory.REPAIR, Unit.VISIT, 60, Q.ELECTRICIAN_CERTIFICATE,
     "60.00", ("故障检查", "维修", "安全用电提醒")),
    ("ZJ03", "紧急上门查看", ServiceCategory.EMERGENCY, Unit.VISIT, 30, "", "50.00", ("上门查看", "联系家属", "情况记录")),
    ("CX01", "喘息服务（短期照护）", ServiceCategory.RESPITE, Unit.HOUR, 240, Q.CAREGIVER_CERTIFICATE,
     "160.00", ("交接照护要点", "全程照护", "交回家属")),
)
# What a plan holds by capability level (GB/T 42195 final level 0–4): (item code, visits a week).
# The tier is the person's own (their service-tier entitlement, else paid).
PLAN_BY_LEVEL: dict[int, tuple[tuple[str, int], ...]] = {
    1: (("ZJ01", 1), ("ZC01", 3)),
    2: (("ZJ01", 1), ("ZC01", 5), ("JS01", 1)),
    3: (("ZY01", 1), ("SH01", 3), ("ZC01", 5), ("ZJ01", 1)),
    4: (("SH01", 7), ("ZY01", 2), ("YL01", 1), ("ZC01", 7)),
}
# When each kind of visit may start: morning care early, meals around noon, the rest spread out.
STARTS = {
    "SH01": ((7, 30), (8, 0), (8, 30), (9, 0)),
    "ZC01": ((10, 30), (11, 0), (11, 30), (12, 0)),
    "YL01": ((14, 0), (14, 30), (15, 0), (15, 30)),
}
OTHER_STARTS = ((9, 0), (9, 30), (10, 0), (14, 0), (14, 30), (15, 0), (15, 30), (16, 0))
WEEKDAY_PATTERNS = {1: [2], 2: [2, 5], 3: [1, 3, 5], 5: [1, 2, 3, 4, 5], 7: [1, 2, 3, 4, 5, 6, 7]}
CAREGIVER_NAMES = (
    "吴桂芳", "张秀英", "李美华", "王春燕", "刘红梅", "陈玉兰", "杨丽娟", "黄小燕", "赵淑珍", "周建国",
    "徐海燕", "孙凤英", "马晓东", "朱丽萍", "胡桂兰", "郭志强", "何秀珍", "林雪梅", "高玉梅", "罗春花",
    "郑丽华", "梁淑芬", "谢金凤", "宋建华", "唐小红", "许文静", "韩素芳", "冯国庆", "邓美玲", "曹海英",
)


@dataclass
class ServicesSummary:
    items: int = 0
    caregivers: int = 0
    plans: int = 0
    beds: int = 0
    orders: int = 0
    records: int = 0
    flagged: int = 0
    extra: dict[str, int] = field(default_factory=dict)


def signature_image(rng: random.Random) -> str:
    """A drawn scribble as the signature pad sends it (PNG data URL)."""
    image = Image.new("RGBA", (300, 100), (255, 255, 255, 0))
    points = [(20 + i * 40, rng.randint(20, 80)) for i in range(7)]
    ImageDraw.Draw(image).line(points, fill=(20, 20, 80, 255), width=4)
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


def _jitter(rng: random.Random, value: float, spread: float) -> Decimal:
    return Decimal(f"{value + rng.uniform(-spread, spread):.6f}")


def _aware(day: dt.date, at: dt.time) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, at))


def create_catalogue(district: Region, officer: User, today: dt.date) -> dict[str, ServiceItem]:
    items = {
        code: ServiceItem.objects.create(
            district=district, code=code, name=name, category=category, unit=unit, standard_minutes=minutes,
            required_qualification=qualification, tasks=list(tasks),
        )
        for code, name, category, unit, minutes, qualification, _price, tasks in ITEMS
    }
    current = PriceList.objects.create(
        district=district, name=f"{today.year}年居家养老服务指导价", legal_basis="青民〔2026〕12号（演示）",
        effective_from=dt.date(today.year, 1, 1), created_by=officer,
    )
    # Next year's list is already published and still editable: its date has not come.
    following = PriceList.objects.create(
        district=district, name=f"{today.year + 1}年居家养老服务指导价", legal_basis="青民〔2026〕58号（演示）",
        effective_from=dt.date(today.year + 1, 1, 1), created_by=officer,
    )
    for code, *_rest, price, _tasks in ITEMS:
        standard = Decimal(price)
        for price_list, factor in ((current, Decimal("1")), (following, Decimal("1.05"))):
            value = (standard * factor).quantize(Decimal("1"))
            Price.objects.create(price_list=price_list, item=items[code], standard_price=value,
                                 low_cost_copay=(value * Decimal("0.3")).quantize(Decimal("0.01")),
                                 paid_price=(value * Decimal("1.2")).quantize(Decimal("0.01")))
    return items


def create_contracts(district: Region, officer: User, items: dict[str, ServiceItem], today: dt.date,
                     fund: Fund) -> dict[str, Organization]:
    providers = {o.name: o for o in Organization.objects.filter(kind="provider")}
    streets = {r.code: r for r in Region.objects.filter(level=RegionLevel.STREET)}
    year = today.year
    specs: tuple[tuple[str, str, str, list[str], list[str]], ...] = (
        (data.PROVIDER, f"QXMZ-{year}-001", f"{year}年青溪区居家养老上门服务项目",
         [c for c in streets if c != "330199101000"], [code for code, *_ in ITEMS if code != "WX01"]),
        ("溪口乐龄家政服务有限公司", f"QXMZ-{year}-002", f"{year}年溪口街道助洁助餐服务项目",
         ["330199001000"], ["ZC01", "ZJ01", "ZJ02", "ZG01", "WX01"]),
        ("梅坞乡村颐养服务社", f"QXMZ-{year}-003", f"{year}年梅坞镇农村居家养老服务项目",
         ["330199101000"], ["ZC01", "ZJ01", "ZJ02", "ZY01", "SH01", "ZX01", "ZG01", "JS01", "ZJ03"]),
    )
    for name, number, title, area, codes in specs:
        provider = providers[name]
        contract = Contract.objects.create(
            district=district, provider=provider, number=number, title=title, fund=fund,
            starts_on=dt.date(year, 1, 1), ends_on=dt.date(year, 12, 31), status=ContractStatus.ACTIVE,
            amount_cap=Decimal("1800000.00"), created_by=officer,
        )
        contract.service_area.set([streets[code] for code in area])
        for code in codes:
            price = next(Decimal(p) for c, *_r, p, _t in ITEMS if c == code)
            ContractItem.objects.create(contract=contract, item=items[code], price=price)
        ProviderLicence.objects.create(provider=provider, kind=LicenceKind.BUSINESS, number=f"{number}-YYZZ",
                                       issued_on=dt.date(2019, 3, 1))
        ProviderLicence.objects.create(provider=provider, kind=LicenceKind.ELDER_CARE, number=f"{number}-BA",
                                       issued_on=dt.date(2024, 6, 1), expires_on=dt.date(year + 2, 5, 31))
    # One food licence runs out within the month: the expiry page has something to show.
    ProviderLicence.objects.create(provider=providers[data.PROVIDER], kind=LicenceKind.FOOD,
                                   number="JY33019900012345", issued_on=dt.date(year - 5, 1, 1),
                                   expires_on=today + dt.timedelta(days=18))
    return providers


def create_facilities(providers: dict[str, Organization]) -> dict[str, Facility]:
    """A station in every community the providers serve and a canteen in each street's first one."""
    regions = {r.code: r for r in Region.objects.filter(level=RegionLevel.COMMUNITY)}
    stations = {}
    for street in data.STREETS:
        provider = providers["梅坞乡村颐养服务社" if street.code == "330199101000" else data.PROVIDER]
        for n, c in enumerate(street.communities):
            if c.code not in regions or c.code in stations:
                continue
            stations[c.code] = Facility.objects.create(
                provider=provider, kind=FacilityKind.SERVICE_STATION, name=f"{c.name}居家养老服务站",
                region=regions[c.code], address=f"{c.roads[0] if c.roads else c.name}{8 + n}号",
                latitude=Decimal(f"{c.latitude:.6f}"), longitude=Decimal(f"{c.longitude:.6f}"),
                opening_hours="08:00-17:30",
            )
            if n == 0:
                Facility.objects.create(
                    provider=provider, kind=FacilityKind.ELDER_CANTEEN, name=f"{c.name}长者饭堂",
                    region=regions[c.code], address=f"{c.roads[0] if c.roads else c.name}{20 + n}号",
                    latitude=Decimal(f"{c.latitude + 0.0008:.6f}"), longitude=Decimal(f"{c.longitude - 0.0006:.6f}"),
                    opening_hours="10:30-13:00, 16:30-18:00",
                )
    return stations


def create_caregivers(rng: random.Random, providers: dict[str, Organization], stations: dict[str, Facility],
                      today: dt.date) -> list[Caregiver]:
    demo_user = User.objects.filter(username="demo_caregiver").first()
    made: list[Caregiver] = []
    names = iter(CAREGIVER_NAMES)
    by_provider = {data.PROVIDER: 18, "溪口乐龄家政服务有限公司": 5, "梅坞乡村颐养服务社": 6}
    for name, count in by_provider.items():
        provider = providers[name]
        own = [s for s in stations.values() if s.provider_id == provider.pk] or list(stations.values())[:1]
        for i in range(count):
            station = own[i % len(own)]
            person_name = next(names)
            caregiver = Caregiver.objects.create(
                provider=provider, name=person_name, phone=f"139{rng.randrange(10**8):08d}", station=station,
                home_address=f"{station.region.name}附近", home_latitude=_jitter(rng, float(station.latitude), 0.004),
                home_longitude=_jitter(rng, float(station.longitude), 0.004),
                travel_mode=TravelMode.CAR if name == "梅坞乡村颐养服务社" and i % 2 else TravelMode.EBIKE,
                work_days=[1, 2, 3, 4, 5, 6] if i % 3 else [1, 2, 3, 4, 5, 6, 7],
                shift_start=dt.time(7, 30), shift_end=dt.time(17, 30), break_minutes=60,
                insurance_policy_no=f"PICC{today.year}{rng.randrange(10**8):08d}",
                insurance_expires_on=today + dt.timedelta(days=20) if i == 4 else dt.date(today.year + 1, 6, 30),
                user=demo_user if (name == data.PROVIDER and i == 0) else None,
            )
            quals = [Q.HEALTH_CERTIFICATE]
            if i % 2 == 0 or i < 6:
                quals.append(Q.CAREGIVER_CERTIFICATE)
            if name == data.PROVIDER and i in (2, 9):
                quals.append(Q.NURSE_LICENCE)
            if name == data.PROVIDER and i in (3, 12):
                quals.append(Q.REHABILITATION_CERTIFICATE)
            if name == "溪口乐龄家政服务有限公司" and i == 1:
                quals.append(Q.ELECTRICIAN_CERTIFICATE)
            for q in quals:
                # One certificate expired last week: that caregiver is refused for bathing until renewed.
                expired = name == data.PROVIDER and i == 8 and q == Q.CAREGIVER_CERTIFICATE
                CaregiverQualification.objects.create(
                    caregiver=caregiver, qualification=q, certificate_no=f"{q[:3].upper()}{rng.randrange(10**9):09d}",
                    issued_on=dt.date(2021, 5, 1),
                    expires_on=today - dt.timedelta(days=7) if expired else dt.date(today.year + 2, 4, 30),
                )
            made.append(caregiver)
    return made


def latest_levels(people: list[int]) -> dict[int, Assessment]:
    latest: dict[int, Assessment] = {}
    for assessment in Assessment.objects.filter(person_id__in=people, status=AssessmentStatus.PUBLISHED).order_by(
            "person_id", "valid_from"):
        latest[assessment.person_id] = assessment
    return latest


def create_plans(rng: random.Random, items: dict[str, ServiceItem], caregivers: list[Caregiver],
                 today: dt.date, officer: User, worker: User, manager: User) -> list[CarePlan]:
    """Signed plans for assessed elders (mild and worse) of the demo street, with the main provider."""
    provider = Organization.objects.get(name=data.PROVIDER)
    people = list(Person.objects.filter(residence_region__code__startswith=data.DEMO_STREET[:9],
                                        status=PersonStatus.ACTIVE, latitude__isnull=False).order_by("pk"))
    levels = latest_levels([p.pk for p in people])
    # A mix like a street's caseload: 25 severely or totally dependent, 20 moderate, 15 mild elders.
    chosen = []
    for wanted, count in (((3, 4), 25), ((2,), 20), ((1,), 15)):
        pool = [p for p in people if p.pk in levels and (levels[p.pk].final_level or 0) in wanted]
        chosen += rng.sample(pool, min(count, len(pool)))
    chosen.sort(key=lambda p: p.pk)
    staff = [c for c in caregivers if c.provider_id == provider.pk]
    started = (today.replace(day=1) - dt.timedelta(days=1)).replace(day=1) - dt.timedelta(days=10)
    plans = []
    for person in chosen:
        assessment = levels[person.pk]
        level = min(4, max(1, assessment.final_level or 1))
        funding = funding_of(person, today)
        plan = CarePlan.objects.create(
            person=person, provider=provider, status=CarePlanStatus.ACTIVE, assessment=assessment,
            entitlements=funding.rows,
            needs="；".join(n.get("category", "") for n in assessment.needs if isinstance(n, dict)) or "生活照料、助餐",
            goals="保持居家生活，按时用餐，居室整洁安全", starts_on=started, created_by=worker,
            activated_at=_aware(started, dt.time(16, 0)),
        )
        home = (float(person.latitude or 0), float(person.longitude or 0))
        for code, per_week in PLAN_BY_LEVEL[level]:
            item = items[code]
            fit = [c for c in staff if not item.required_qualification or any(
                q.qualification == item.required_qualification and q.valid_on(today) for q in c.qualifications.all())]
            fit.sort(key=lambda c: (float(c.home_latitude) - home[0]) ** 2 + (float(c.home_longitude) - home[1]) ** 2)
            hour, minute = rng.choice(STARTS.get(code, OTHER_STARTS))
            start = dt.datetime.combine(today, dt.time(hour, minute))
            CarePlanItem.objects.create(
                plan=plan, item=item, tier=funding.tier, weekdays=WEEKDAY_PATTERNS[per_week],
                window_start=start.time(), window_end=(start + dt.timedelta(minutes=45)).time(),
                minutes=item.standard_minutes, preferred_caregiver=fit[rng.randrange(min(3, len(fit)))] if fit else None,
            )
        for role, name, by in ((SignerRole.COMMUNITY, worker.display_name, worker),
                               (SignerRole.PROVIDER, manager.display_name, manager),
                               (SignerRole.ELDER, person.name, worker)):
            CarePlanSignature.objects.create(plan=plan, role=role, signer_name=name, image=signature_image(rng),
                                             recorded_by=by)
        plans.append(plan)
    return plans


def create_beds(rng: random.Random, plans: list[CarePlan], today: dt.date, worker: User) -> list[HomeCareBed]:
    """Home care beds for the most dependent planned elders who live with a family carer (seed 001)."""
    beds = []
    candidates = [p for p in plans if p.assessment and (p.assessment.final_level or 0) >= 3
                  and p.person.living_arrangement != "alone"]
    for plan in candidates[:8]:
        # The bed's service package: personal care every day, to meet the daily hour (seed 001).
        plan.items.filter(item__code="SH01").update(weekdays=[1, 2, 3, 4, 5, 6, 7])
        opened = plan.starts_on + dt.timedelta(days=5)
        bed = HomeCareBed.objects.create(
            person=plan.person, provider=plan.provider, assessment=plan.assessment, care_plan=plan,
            status=HomeCareBedStatus.ACTIVE, opened_on=opened, created_by=worker,
        )
        BedAdaptation.objects.create(bed=bed, description="卫生间扶手、防滑地垫、床边护栏", budget=Decimal("2800.00"),
                                     cost=Decimal("2650.00"), status="accepted", completed_on=opened,
                                     accepted_by="社区验收小组")
        for kind, cost in (("紧急呼叫器", "380.00"), ("智能床垫（离床、心率呼吸监测）", "1200.00"), ("烟雾报警器", "160.00")):
            BedDevice.objects.create(bed=bed, kind=kind, serial=f"DEV{rng.randrange(10**8):08d}",
                                     cost=Decimal(cost), installed_on=opened)
        beds.append(bed)
    return beds


def ensure_settings(district: Region) -> None:
    ServiceSettings.for_district(district)
    villages = [c.code for s in data.STREETS for c in s.communities if c.is_village]
    Region.objects.filter(code__in=villages).update(is_rural=True)


def generate_services(seed: int = 2026, *, today: dt.date | None = None) -> ServicesSummary:
    """The whole services demo; see the module docstring."""
    today = today or timezone.localdate()
    rng = random.Random(f"services-{seed}")
    district = Region.objects.filter(level=RegionLevel.DISTRICT).order_by("pk").first()
    officer = User.objects.filter(username="demo_district").first()
    worker = User.objects.filter(username="demo_community").first()
    manager = User.objects.filter(username="demo_provider").first()
    summary = ServicesSummary()
    if district is None or officer is None or worker is None or manager is None:
        return summary
    with transaction.atomic():
        ensure_settings(district)
        fund, _ = Fund.objects.get_or_create(district=district, code="welfare", defaults={"name": "福利彩票公益金"})
        items = create_catalogue(district, officer, today)
        providers = create_contracts(district, officer, items, today, fund)
        stations = create_facilities(providers)
        caregivers = create_caregivers(rng, providers, stations, today)
        plans = create_plans(rng, items, caregivers, today, officer, worker, manager)
        beds = create_beds(rng, plans, today, worker)
        history: dict[str, Any] = write_history(rng, plans, caregivers, today)
    summary.items = len(items)
    summary.caregivers = len(caregivers)
    summary.plans = len(plans)
    summary.beds = len(beds)
    summary.orders = history["orders"]
    summary.records = history["records"]
    summary.flagged = history["flagged"]
    return summary
