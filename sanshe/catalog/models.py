"""The service catalogue, its versioned price lists, providers (licences, purchase contracts,
stations and canteens), caregivers with their qualifications, and the district's service settings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import models

from sanshe.accounts.models import Organization, Region
from sanshe.eligibility.models import Fund


class ServiceCategory(models.TextChoices):
    MEAL = "meal", "助餐"
    BATH = "bath", "助浴"
    CLEANING = "cleaning", "助洁"
    MOBILITY = "mobility", "助行"
    MEDICAL = "medical", "助医"
    EMERGENCY = "emergency", "助急"
    SHOPPING = "shopping", "助购"
    COMPANIONSHIP = "companionship", "精神慰藉"
    REHABILITATION = "rehabilitation", "康复护理"
    DAY_CARE = "day_care", "日间照料"
    RESPITE = "respite", "喘息服务"
    REPAIR = "repair", "家电维修"


class Unit(models.TextChoices):
    VISIT = "visit", "次"
    HOUR = "hour", "小时"
    MEAL = "meal", "餐"


class Tier(models.TextChoices):
    FREE = "free", "无偿"
    LOW_COST = "low_cost", "低偿"
    PAID = "paid", "有偿"


class Qualification(models.TextChoices):
    CAREGIVER_CERTIFICATE = "caregiver_certificate", "养老护理员职业技能等级证书"
    NURSE_LICENCE = "nurse_licence", "护士执业证书"
    DOCTOR_LICENCE = "doctor_licence", "医师执业证书"
    REHABILITATION_CERTIFICATE = "rehabilitation_certificate", "康复治疗师资格证书"
    HEALTH_CERTIFICATE = "health_certificate", "健康证"
    ELECTRICIAN_CERTIFICATE = "electrician_certificate", "电工作业证"
    SOCIAL_WORKER_CERTIFICATE = "social_worker_certificate", "社会工作者职业资格证书"


class ServiceItem(models.Model):
    """One entry of the district's service list (服务清单)."""

    district = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    code = models.CharField("编码", max_length=32)
    name = models.CharField("名称", max_length=100)
    category = models.CharField("类别", max_length=24, choices=ServiceCategory.choices)
    unit = models.CharField("计量单位", max_length=8, choices=Unit.choices)
    standard_minutes = models.PositiveSmallIntegerField("标准时长（分钟）")
    # Empty when any caregiver of a contracted provider may deliver it.
    required_qualification = models.CharField(
        "所需资质", max_length=32, choices=Qualification.choices, blank=True
    )
    # The visit's checklist on the caregiver's phone, in order.
    tasks = models.JSONField("服务内容（清单）", default=list, blank=True)
    description = models.TextField("说明", blank=True)
    is_active = models.BooleanField("在用", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "服务项目"
        ordering = ["category", "code"]
        constraints = [models.UniqueConstraint(fields=["district", "code"], name="service_item_code_per_district")]

    def __str__(self) -> str:
        return self.name


class PriceList(models.Model):
    """A version of the district's prices, in force from its date until the next version's."""

    district = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    name = models.CharField("名称", max_length=100)
    legal_basis = models.CharField("依据（文号）", max_length=200, blank=True)
    effective_from = models.DateField("生效日期")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "价格表"
        ordering = ["-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["district", "effective_from"], name="price_list_one_per_date")
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.effective_from} 起）"


class Price(models.Model):
    """One item's price by tier: a free service is paid in full from the fund; a low-cost one
    costs the elder the co-payment and the fund the rest; a paid one costs the elder the paid price."""

    price_list = models.ForeignKey(PriceList, on_delete=models.CASCADE, related_name="prices")
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="prices")
    standard_price = models.DecimalField("标准价（元/单位）", max_digits=9, decimal_places=2)
    low_cost_copay = models.DecimalField("低偿自付（元/单位）", max_digits=9, decimal_places=2)
    paid_price = models.DecimalField("有偿价格（元/单位）", max_digits=9, decimal_places=2)

    class Meta:
        verbose_name = "服务价格"
        constraints = [models.UniqueConstraint(fields=["price_list", "item"], name="price_one_per_item")]

    def elder_pays(self, tier: str) -> Decimal:
        if tier == Tier.FREE:
            return Decimal("0.00")
        return self.low_cost_copay if tier == Tier.LOW_COST else self.paid_price

    def fund_pays(self, tier: str) -> Decimal:
        if tier == Tier.FREE:
            return self.standard_price
        return self.standard_price - self.low_cost_copay if tier == Tier.LOW_COST else Decimal("0.00")


class LicenceKind(models.TextChoices):
    BUSINESS = "business", "营业执照/登记证书"
    ELDER_CARE = "elder_care", "养老服务机构备案"
    FOOD = "food", "食品经营许可证"
    MEDICAL = "medical", "医疗机构执业许可证"


class ProviderLicence(models.Model):
    provider = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="licences")
    kind = models.CharField("证照类型", max_length=16, choices=LicenceKind.choices)
    number = models.CharField("证号", max_length=60)
    issued_on = models.DateField("发证日期", null=True, blank=True)
    expires_on = models.DateField("有效期至", null=True, blank=True)

    class Meta:
        verbose_name = "机构证照"
        ordering = ["kind"]


class ContractStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    ACTIVE = "active", "履行中"
    TERMINATED = "terminated", "已终止"


class Contract(models.Model):
    """A government purchase of services (政府购买服务合同): items, prices, area, period, fund."""

    district = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="contracts")
    number = models.CharField("合同编号", max_length=60)
    title = models.CharField("项目名称", max_length=200)
    fund = models.ForeignKey(Fund, verbose_name="资金来源", on_delete=models.PROTECT, related_name="+")
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期")
    # Streets or communities the provider serves under this contract.
    service_area = models.ManyToManyField(Region, verbose_name="服务区域", related_name="+")
    amount_cap = models.DecimalField("合同金额上限（元）", max_digits=12, decimal_places=2, null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=ContractStatus.choices, default=ContractStatus.DRAFT)
    terminated_reason = models.CharField("终止原因", max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "购买服务合同"
        ordering = ["-starts_on", "number"]
        constraints = [models.UniqueConstraint(fields=["district", "number"], name="contract_number_per_district")]

    def __str__(self) -> str:
        return f"{self.title}（{self.number}）"

    def in_force_on(self, day: dt.date) -> bool:
        return self.status == ContractStatus.ACTIVE and self.starts_on <= day <= self.ends_on


class ContractItem(models.Model):
    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="+")
    # The contracted price per unit the fund pays the provider.
    price = models.DecimalField("合同单价（元）", max_digits=9, decimal_places=2)
    quantity_cap = models.PositiveIntegerField("数量上限", null=True, blank=True)

    class Meta:
        verbose_name = "合同服务项目"
        constraints = [models.UniqueConstraint(fields=["contract", "item"], name="contract_item_once")]


class FacilityKind(models.TextChoices):
    SERVICE_STATION = "service_station", "居家养老服务站"
    DAY_CARE_CENTRE = "day_care_centre", "日间照料中心"
    ELDER_CANTEEN = "elder_canteen", "长者饭堂"


class Facility(models.Model):
    """A station or canteen with an address: the centre of a 15-minute service circle."""

    provider = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="facilities")
    kind = models.CharField("类型", max_length=24, choices=FacilityKind.choices)
    name = models.CharField("名称", max_length=100)
    region = models.ForeignKey(Region, verbose_name="所在社区", on_delete=models.PROTECT, related_name="+")
    address = models.CharField("地址", max_length=200)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6)
    opening_hours = models.CharField("开放时间", max_length=60, blank=True)
    is_active = models.BooleanField("在用", default=True)

    class Meta:
        verbose_name = "服务设施"
        ordering = ["region__code", "name"]

    def __str__(self) -> str:
        return self.name


class TravelMode(models.TextChoices):
    WALK = "walk", "步行"
    BICYCLE = "bicycle", "自行车"
    EBIKE = "ebike", "电动自行车"
    CAR = "car", "汽车"


class Caregiver(models.Model):
    """A provider's worker who delivers services; signs in with the linked account."""

    provider = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="caregivers")
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="caregiver"
    )
    name = models.CharField("姓名", max_length=50)
    phone = models.CharField("手机号", max_length=20)
    station = models.ForeignKey(
        Facility, verbose_name="所属服务站", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    home_address = models.CharField("出发地址", max_length=200, blank=True)
    home_latitude = models.DecimalField("出发地纬度", max_digits=9, decimal_places=6)
    home_longitude = models.DecimalField("出发地经度", max_digits=9, decimal_places=6)
    travel_mode = models.CharField("出行方式", max_length=8, choices=TravelMode.choices, default=TravelMode.EBIKE)
    # Working days as ISO weekday numbers (1 = Monday) and the daily shift.
    work_days = models.JSONField("工作日", default=list)
    shift_start = models.TimeField("上班时间", default=dt.time(8, 0))
    shift_end = models.TimeField("下班时间", default=dt.time(17, 0))
    break_minutes = models.PositiveSmallIntegerField("午休（分钟）", default=60)
    insurance_policy_no = models.CharField("意外/责任险保单号", max_length=60, blank=True)
    insurance_expires_on = models.DateField("保险有效期至", null=True, blank=True)
    is_active = models.BooleanField("在职", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "护理员"
        ordering = ["provider", "name"]
        indexes = [
            # Dispatch looks caregivers up by a bounding box around the order.
            models.Index(fields=["home_latitude", "home_longitude"], name="caregiver_home"),
        ]

    def __str__(self) -> str:
        return self.name


class CaregiverQualification(models.Model):
    caregiver = models.ForeignKey(Caregiver, on_delete=models.CASCADE, related_name="qualifications")
    qualification = models.CharField("资质", max_length=32, choices=Qualification.choices)
    certificate_no = models.CharField("证书编号", max_length=60)
    issued_on = models.DateField("发证日期", null=True, blank=True)
    expires_on = models.DateField("有效期至", null=True, blank=True)

    class Meta:
        verbose_name = "护理员资质"
        constraints = [
            models.UniqueConstraint(fields=["caregiver", "qualification"], name="caregiver_qualification_once")
        ]

    def valid_on(self, day: dt.date) -> bool:
        return self.expires_on is None or day <= self.expires_on


class ServiceSettings(models.Model):
    """A district's service parameters: circles, geofence, travel estimates, delivery checks."""

    district = models.OneToOneField(Region, on_delete=models.CASCADE, related_name="+")
    town_circle_minutes = models.PositiveSmallIntegerField("城镇服务圈（分钟）", default=15)
    country_circle_minutes = models.PositiveSmallIntegerField("农村服务圈（分钟）", default=30)
    geofence_metres = models.PositiveSmallIntegerField("签到范围（米）", default=200)
    detour_factor = models.DecimalField("绕行系数", max_digits=3, decimal_places=2, default=Decimal("1.30"))
    walk_kmh = models.DecimalField("步行速度（公里/小时）", max_digits=4, decimal_places=1, default=Decimal("4.5"))
    bicycle_kmh = models.DecimalField("自行车速度", max_digits=4, decimal_places=1, default=Decimal("12.0"))
    ebike_kmh = models.DecimalField("电动自行车速度", max_digits=4, decimal_places=1, default=Decimal("18.0"))
    car_kmh = models.DecimalField("汽车速度", max_digits=4, decimal_places=1, default=Decimal("25.0"))
    # A visit with no check-in this many minutes after its window opened is late; after the window
    # closed, missed.
    late_after_minutes = models.PositiveSmallIntegerField("迟到判定（分钟）", default=30)
    # A visit shorter than this share of the item's standard duration is flagged.
    short_visit_percent = models.PositiveSmallIntegerField("时长不足判定（%）", default=50)
    expiry_warning_days = models.PositiveSmallIntegerField("证照到期提前提醒（天）", default=30)

    class Meta:
        verbose_name = "服务参数"

    def speed_kmh(self, mode: str) -> float:
        speeds: dict[str, Decimal] = {
            TravelMode.WALK: self.walk_kmh, TravelMode.BICYCLE: self.bicycle_kmh, TravelMode.CAR: self.car_kmh
        }
        return float(speeds.get(mode, self.ebike_kmh))

    @classmethod
    def for_district(cls, district: Region) -> ServiceSettings:
        found, _ = cls.objects.get_or_create(district=district)
        return found
