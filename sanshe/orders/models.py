"""Care plans (三方协议), service orders with their declared status table, service records with
check-in/check-out and confirmation, delivery alerts, complaints and home care beds."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from sanshe.accounts.models import Organization, Region
from sanshe.assessments.models import Assessment
from sanshe.catalog.models import Caregiver, ServiceItem, Tier
from sanshe.people.models import Contact, Person


class CarePlanStatus(models.TextChoices):
    DRAFT = "draft", "草稿（待签署）"
    ACTIVE = "active", "执行中"
    SUPERSEDED = "superseded", "已被新版本替代"
    ENDED = "ended", "已终止"


class CarePlan(models.Model):
    """A person's individual care plan (个性化养老方案). Each change is a new version; the previous
    one stays as it was signed."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="care_plans")
    provider = models.ForeignKey(Organization, verbose_name="服务机构", on_delete=models.PROTECT, related_name="+")
    version = models.PositiveSmallIntegerField("版本", default=1)
    previous = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="next_version"
    )
    status = models.CharField("状态", max_length=16, choices=CarePlanStatus.choices, default=CarePlanStatus.DRAFT)
    assessment = models.ForeignKey(
        Assessment, verbose_name="依据的评估", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    needs = models.TextField("服务需求", blank=True)
    goals = models.TextField("照护目标", blank=True)
    # What the plan is funded by at drafting time: [{"policy": code, "name": ..., "amount": "500.00"}].
    entitlements = models.JSONField("依据的待遇", default=list, blank=True)
    starts_on = models.DateField("开始日期")
    ends_on = models.DateField("结束日期", null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    activated_at = models.DateTimeField("生效时间", null=True, blank=True)
    ended_reason = models.CharField("终止原因", max_length=300, blank=True)

    class Meta:
        verbose_name = "个性化养老方案"
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(fields=["person", "provider", "version"], name="care_plan_version_once"),
        ]

    def __str__(self) -> str:
        return f"{self.person.name} 第{self.version}版方案"


class CarePlanItem(models.Model):
    plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="items")
    item = models.ForeignKey(ServiceItem, verbose_name="服务项目", on_delete=models.PROTECT, related_name="+")
    tier = models.CharField("收费档次", max_length=16, choices=Tier.choices, default=Tier.FREE)
    # ISO weekdays (1 = Monday) on which the service is delivered, and its preferred window.
    weekdays = models.JSONField("服务日", default=list)
    window_start = models.TimeField("期望开始时间")
    window_end = models.TimeField("期望最晚开始时间")
    minutes = models.PositiveSmallIntegerField("每次时长（分钟）")
    preferred_caregiver = models.ForeignKey(
        Caregiver, verbose_name="固定护理员", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    notes = models.CharField("备注", max_length=200, blank=True)

    class Meta:
        verbose_name = "方案服务项目"


class SignerRole(models.TextChoices):
    COMMUNITY = "community", "社区"
    PROVIDER = "provider", "服务机构"
    ELDER = "elder", "老年人本人"
    GUARDIAN = "guardian", "监护人/代理人"


class CarePlanSignature(models.Model):
    """A signature drawn on screen (PNG data URL). The plan needs the community, the provider and
    the elder or a guardian (三方协议)."""

    plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="signatures")
    role = models.CharField("签署方", max_length=16, choices=SignerRole.choices)
    signer_name = models.CharField("签署人", max_length=50)
    image = models.TextField("签名")
    signed_at = models.DateTimeField(auto_now_add=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "方案签名"
        constraints = [models.UniqueConstraint(fields=["plan", "role"], name="care_plan_signature_one_per_role")]


class OrderStatus(models.TextChoices):
    REQUESTED = "requested", "待派单"
    ASSIGNED = "assigned", "已派单"
    ACCEPTED = "accepted", "已接单"
    ON_THE_WAY = "on_the_way", "出发中"
    IN_SERVICE = "in_service", "服务中"
    DONE = "done", "待确认"
    CONFIRMED = "confirmed", "已确认"
    CANCELLED = "cancelled", "已取消"
    NO_SHOW = "no_show", "未服务"
    DISPUTED = "disputed", "有争议"


S = OrderStatus
# The declared status table: from → {to: whether a reason is required}. Anything not listed is
# refused. Exceptional transitions (back-steps, cancellation, no-show, dispute) need a reason.
TRANSITIONS: dict[str, dict[str, bool]] = {
    S.REQUESTED: {S.ASSIGNED: False, S.CANCELLED: True},
    S.ASSIGNED: {S.ACCEPTED: False, S.REQUESTED: True, S.ASSIGNED: True, S.CANCELLED: True},
    S.ACCEPTED: {S.ON_THE_WAY: False, S.IN_SERVICE: False, S.REQUESTED: True, S.ASSIGNED: True,
                 S.CANCELLED: True, S.NO_SHOW: True},
    S.ON_THE_WAY: {S.IN_SERVICE: False, S.CANCELLED: True, S.NO_SHOW: True},
    S.IN_SERVICE: {S.DONE: False},
    S.DONE: {S.CONFIRMED: False, S.DISPUTED: True},
    S.DISPUTED: {S.CONFIRMED: True, S.CANCELLED: True},
    S.CONFIRMED: {},
    S.CANCELLED: {},
    S.NO_SHOW: {},
}
OPEN_STATUSES = (S.REQUESTED, S.ASSIGNED, S.ACCEPTED, S.ON_THE_WAY, S.IN_SERVICE)


class OrderSource(models.TextChoices):
    CARE_PLAN = "care_plan", "照护方案"
    ELDER = "elder", "老人或家属自助"
    COMMUNITY = "community", "社区代为申请"
    CALL_CENTRE = "call_centre", "呼叫中心"


class ServiceOrder(models.Model):
    """One service to deliver (服务工单)."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="service_orders")
    item = models.ForeignKey(ServiceItem, verbose_name="服务项目", on_delete=models.PROTECT, related_name="+")
    tier = models.CharField("收费档次", max_length=16, choices=Tier.choices, default=Tier.FREE)
    # The person's community when the order was made: the community's workers watch it.
    community = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(
        Organization, verbose_name="服务机构", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    caregiver = models.ForeignKey(
        Caregiver, verbose_name="护理员", null=True, blank=True, on_delete=models.PROTECT, related_name="orders"
    )
    plan_item = models.ForeignKey(
        CarePlanItem, null=True, blank=True, on_delete=models.SET_NULL, related_name="orders"
    )
    source = models.CharField("来源", max_length=16, choices=OrderSource.choices)
    urgent = models.BooleanField("加急", default=False)
    # The visit should start inside this window; it lasts `minutes`.
    window_start = models.DateTimeField("最早开始")
    window_end = models.DateTimeField("最晚开始")
    minutes = models.PositiveSmallIntegerField("时长（分钟）")
    # Where the service happens (the person's home unless stated), copied when the order is made.
    address = models.CharField("服务地址", max_length=200)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=OrderStatus.choices, default=OrderStatus.REQUESTED)
    # Why the dispatcher or the platform chose this caregiver: {"by": "auto"|"dispatcher", "lines": [...]}.
    assignment = models.JSONField("派单依据", default=dict, blank=True)
    notes = models.CharField("需求说明", max_length=300, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_by_name = models.CharField("申请人", max_length=50, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "服务工单"
        ordering = ["window_start", "id"]
        indexes = [
            models.Index(fields=["caregiver", "window_start"], name="order_caregiver_time"),
            models.Index(fields=["status", "window_start"], name="order_status_time"),
            models.Index(fields=["provider", "window_start"], name="order_provider_time"),
            models.Index(fields=["community", "window_start"], name="order_community_time"),
            models.Index(fields=["person", "window_start"], name="order_person_time"),
        ]
        constraints = [
            # A care plan item produces at most one order per start time (generation is idempotent).
            models.UniqueConstraint(fields=["plan_item", "window_start"], name="order_once_per_plan_slot"),
        ]

    def __str__(self) -> str:
        return f"工单 {self.pk}"


class OrderEvent(models.Model):
    """One transition of an order, with who and why."""

    order = models.ForeignKey(ServiceOrder, on_delete=models.CASCADE, related_name="events")
    from_status = models.CharField(max_length=16, choices=OrderStatus.choices)
    to_status = models.CharField(max_length=16, choices=OrderStatus.choices)
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(max_length=50, blank=True)
    reason = models.CharField("原因", max_length=300, blank=True)
    caregiver = models.ForeignKey(Caregiver, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "工单流转记录"
        ordering = ["at", "id"]


class OfferResponse(models.TextChoices):
    OPEN = "open", "待响应"
    ACCEPTED = "accepted", "已抢单"
    DECLINED = "declined", "已拒绝"
    WITHDRAWN = "withdrawn", "已撤回"


class OrderOffer(models.Model):
    """An unassigned order broadcast to one eligible caregiver; the first to accept gets it."""

    order = models.ForeignKey(ServiceOrder, on_delete=models.CASCADE, related_name="offers")
    caregiver = models.ForeignKey(Caregiver, on_delete=models.CASCADE, related_name="offers")
    sent_at = models.DateTimeField(auto_now_add=True)
    response = models.CharField(max_length=16, choices=OfferResponse.choices, default=OfferResponse.OPEN)
    responded_at = models.DateTimeField(null=True, blank=True)
    reason = models.CharField("拒绝原因", max_length=200, blank=True)

    class Meta:
        verbose_name = "抢单邀请"
        constraints = [models.UniqueConstraint(fields=["order", "caregiver"], name="offer_once_per_caregiver")]


class Confirmation(models.TextChoices):
    NONE = "", "未确认"
    SIGNATURE = "signature", "现场签字"
    CODE = "code", "短信验证码"
    REVIEW = "review", "人工核实"


class Flag(models.TextChoices):
    OUTSIDE_GEOFENCE = "outside_geofence", "签到位置不在服务地址范围内"
    OVERLAP = "overlap", "同一护理员服务时间重叠"
    SHORT = "short", "服务时长明显低于标准"
    AFTER_DEATH = "after_death", "服务日期在服务对象死亡之后"
    HOSPITALISED = "hospitalised", "服务日期服务对象在住院"
    NO_GPS = "no_gps", "签到未取得定位"


class ReviewStatus(models.TextChoices):
    NOT_NEEDED = "", "无需核查"
    PENDING = "pending", "待核查"
    CLEARED = "cleared", "核查通过"
    REJECTED = "rejected", "核查不通过"


class ServiceRecord(models.Model):
    """What was actually delivered: who, when (签到/签退), where, what, confirmation, rating.
    Flagged records are confirmed only after a reviewer clears them."""

    order = models.OneToOneField(ServiceOrder, on_delete=models.PROTECT, related_name="record")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="service_records")
    caregiver = models.ForeignKey(Caregiver, on_delete=models.PROTECT, related_name="records")
    item = models.ForeignKey(ServiceItem, on_delete=models.PROTECT, related_name="+")
    provider = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    service_date = models.DateField("服务日期")
    address = models.CharField("服务地点", max_length=200)
    check_in_at = models.DateTimeField("签到时间")
    check_in_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    check_in_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    check_in_distance_m = models.PositiveIntegerField("签到距离（米）", null=True, blank=True)
    check_out_at = models.DateTimeField("签退时间", null=True, blank=True)
    check_out_latitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    check_out_longitude = models.DecimalField(max_digits=9, decimal_places=6, null=True, blank=True)
    tasks_done = models.JSONField("已完成服务内容", default=list, blank=True)
    notes = models.TextField("服务记录", blank=True)
    flags = models.JSONField("异常标记", default=list, blank=True)
    review_status = models.CharField(
        "核查状态", max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.NOT_NEEDED, blank=True
    )
    review_note = models.CharField("核查意见", max_length=300, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    confirmation = models.CharField("确认方式", max_length=16, choices=Confirmation.choices, default="", blank=True)
    confirmed_at = models.DateTimeField("确认时间", null=True, blank=True)
    confirmed_by_name = models.CharField("确认人", max_length=50, blank=True)
    signature = models.TextField("确认签名", blank=True)
    rating = models.PositiveSmallIntegerField("评价（1–5）", null=True, blank=True)
    rating_comment = models.CharField("评价意见", max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "服务记录"
        ordering = ["-check_in_at"]
        indexes = [
            models.Index(fields=["caregiver", "check_in_at"], name="record_caregiver_time"),
            models.Index(fields=["person", "service_date"], name="record_person_date"),
            models.Index(fields=["provider", "service_date"], name="record_provider_date"),
            models.Index(fields=["review_status"], name="record_review",
                         condition=models.Q(review_status="pending")),
        ]

    @property
    def minutes(self) -> int | None:
        if self.check_out_at is None:
            return None
        return int((self.check_out_at - self.check_in_at).total_seconds() // 60)


def record_photo_path(instance: ServicePhoto, filename: str) -> str:
    return f"service-photos/{instance.record.service_date:%Y/%m}/{instance.record_id}-{filename}"


class ServicePhoto(models.Model):
    record = models.ForeignKey(ServiceRecord, on_delete=models.CASCADE, related_name="photos")
    file = models.FileField("照片", upload_to=record_photo_path)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "服务照片"


class ConfirmationCode(models.Model):
    """A one-time code sent to a contact's phone to confirm a visit; only its hash is kept."""

    record = models.ForeignKey(ServiceRecord, on_delete=models.CASCADE, related_name="codes")
    contact = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    phone_masked = models.CharField(max_length=20)
    code_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    attempts = models.PositiveSmallIntegerField(default=0)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "确认验证码"


class OutboundMessage(models.Model):
    """A text message to send, written in the same transaction as the action that needs it;
    `send_messages` claims and sends them."""

    phone = models.CharField(max_length=20)
    body = models.CharField(max_length=300)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=300, blank=True)

    class Meta:
        verbose_name = "待发短信"
        indexes = [models.Index(fields=["created_at"], name="message_unsent", condition=models.Q(sent_at=None))]


class ComplaintStatus(models.TextChoices):
    OPEN = "open", "待处理"
    RESOLVED = "resolved", "已处理"


class Complaint(models.Model):
    order = models.ForeignKey(ServiceOrder, on_delete=models.PROTECT, related_name="complaints")
    lodged_by_name = models.CharField("投诉人", max_length=50)
    text = models.TextField("投诉内容")
    lodged_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField("状态", max_length=16, choices=ComplaintStatus.choices, default=ComplaintStatus.OPEN)
    resolution = models.TextField("处理结果", blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "服务投诉"
        ordering = ["-lodged_at"]


class AlertKind(models.TextChoices):
    LATE = "late", "迟到（超时未签到）"
    MISSED = "missed", "漏服务（服务时段内未签到）"
    FLAGGED = "flagged", "服务记录异常待核查"
    SHORTFALL = "shortfall", "家庭养老床位服务时长不足"


class Alert(models.Model):
    """A delivery problem for the provider and the community to act on; raised once per order and kind."""

    kind = models.CharField("类型", max_length=16, choices=AlertKind.choices)
    order = models.ForeignKey(ServiceOrder, null=True, blank=True, on_delete=models.CASCADE, related_name="alerts")
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey(Organization, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    # The day an alert without an order is about (a home care bed's shortfall day).
    day = models.DateField("日期", null=True, blank=True)
    message = models.CharField("内容", max_length=300)
    raised_at = models.DateTimeField(auto_now_add=True)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution = models.CharField("处理说明", max_length=300, blank=True)

    class Meta:
        verbose_name = "服务预警"
        ordering = ["-raised_at"]
        constraints = [
            models.UniqueConstraint(fields=["order", "kind"], name="alert_once_per_order_kind"),
            # An alert without an order (a bed's shortfall) is raised once per person, kind and day.
            models.UniqueConstraint(fields=["person", "kind", "day"], condition=models.Q(order=None),
                                    name="alert_once_per_person_kind_day"),
        ]


class HomeCareBedStatus(models.TextChoices):
    PREPARING = "preparing", "建床中"
    ACTIVE = "active", "运营中"
    CLOSED = "closed", "已撤床"


class HomeCareBed(models.Model):
    """A home care bed (家庭养老床位): assessment, adaptation, devices and a service package.
    Seed 001 requires at least 1 hour of service a day and 30 hours a month."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="home_care_beds")
    provider = models.ForeignKey(Organization, verbose_name="服务机构", on_delete=models.PROTECT, related_name="+")
    assessment = models.ForeignKey(
        Assessment, verbose_name="能力评估", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    care_plan = models.ForeignKey(
        CarePlan, verbose_name="服务包（照护方案）", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    status = models.CharField("状态", max_length=16, choices=HomeCareBedStatus.choices,
                              default=HomeCareBedStatus.PREPARING)
    opened_on = models.DateField("建床日期", null=True, blank=True)
    closed_on = models.DateField("撤床日期", null=True, blank=True)
    closed_reason = models.CharField("撤床原因", max_length=300, blank=True)
    daily_minimum_minutes = models.PositiveSmallIntegerField("每日最少服务（分钟）", default=60)
    monthly_minimum_minutes = models.PositiveIntegerField("每月最少服务（分钟）", default=1800)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "家庭养老床位"
        constraints = [
            models.UniqueConstraint(fields=["person"], condition=~models.Q(status="closed"), name="one_open_bed"),
        ]


class AdaptationStatus(models.TextChoices):
    PLANNED = "planned", "待施工"
    DONE = "done", "已完工"
    ACCEPTED = "accepted", "已验收"


class BedAdaptation(models.Model):
    """The home adaptation work order (适老化改造) of a home care bed; seed 001 caps it at 3,000 yuan."""

    bed = models.ForeignKey(HomeCareBed, on_delete=models.CASCADE, related_name="adaptations")
    description = models.CharField("改造内容", max_length=300)
    budget = models.DecimalField("预算（元）", max_digits=9, decimal_places=2)
    cost = models.DecimalField("实际费用（元）", max_digits=9, decimal_places=2, null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=AdaptationStatus.choices,
                              default=AdaptationStatus.PLANNED)
    completed_on = models.DateField("完工日期", null=True, blank=True)
    accepted_by = models.CharField("验收人", max_length=50, blank=True)


class BedDevice(models.Model):
    """A device installed for a home care bed; seed 001 caps smart devices at 2,000 yuan."""

    bed = models.ForeignKey(HomeCareBed, on_delete=models.CASCADE, related_name="devices")
    kind = models.CharField("设备类型", max_length=50)
    serial = models.CharField("设备编号", max_length=60, blank=True)
    cost = models.DecimalField("费用（元）", max_digits=9, decimal_places=2, default=0)
    installed_on = models.DateField("安装日期")


class RequestLink(models.Model):
    """A personal link (printed as a QR code on the care plan) through which the elder or family
    requests a service from a phone without an account. Only the token's hash is stored."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="+")
    token_hash = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "自助下单链接"
