"""Capability assessments (GB/T 42195-2022 by default): request → assign → visit → sign →
review → publish; objections open a review assessment; each person's current level."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from sanshe.accounts.models import Organization, Region
from sanshe.people.models import Person


class AssessmentReason(models.TextChoices):  # GB/T 42195 A.1.3
    FIRST = "first", "首次评估"
    ROUTINE = "routine", "常规评估"
    IMMEDIATE = "immediate", "即时评估"
    REVIEW = "review", "因对评估结果有疑问进行的复评"
    OTHER = "other", "其他"


class AssessmentStatus(models.TextChoices):
    REQUESTED = "requested", "待指派机构"
    ASSIGNED = "assigned", "待机构派员"
    SCHEDULED = "scheduled", "已预约上门"
    IN_PROGRESS = "in_progress", "评估中"
    SUBMITTED = "submitted", "待机构审核"
    PUBLISHED = "published", "已生效"
    CANCELLED = "cancelled", "已取消"


S = AssessmentStatus
# The declared status table: (from, to) pairs an action may perform. Returning a submitted
# assessment to the assessors is the review's "send back" (SUBMITTED → IN_PROGRESS).
TRANSITIONS: frozenset[tuple[str, str]] = frozenset({
    (S.REQUESTED, S.ASSIGNED),
    (S.ASSIGNED, S.SCHEDULED),
    (S.SCHEDULED, S.SCHEDULED),  # re-book the visit or change assessors
    (S.SCHEDULED, S.IN_PROGRESS),
    (S.IN_PROGRESS, S.SUBMITTED),
    (S.SUBMITTED, S.IN_PROGRESS),
    (S.SUBMITTED, S.PUBLISHED),
    (S.REQUESTED, S.CANCELLED),
    (S.ASSIGNED, S.CANCELLED),
    (S.SCHEDULED, S.CANCELLED),
    (S.IN_PROGRESS, S.CANCELLED),
})
OPEN_STATUSES = (S.REQUESTED, S.ASSIGNED, S.SCHEDULED, S.IN_PROGRESS, S.SUBMITTED)
# While these hold, the agency's assessors may open the person's data.
ASSIGNMENT_OPEN = (S.SCHEDULED, S.IN_PROGRESS, S.SUBMITTED)


class SignerRole(models.TextChoices):
    ASSESSOR_1 = "assessor_1", "评估员"
    ASSESSOR_2 = "assessor_2", "评估员"
    INFORMANT = "informant", "信息提供者"


class Assessment(models.Model):
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="assessments")
    number = models.CharField("评估编号", max_length=24, unique=True)  # A.1.1
    reason = models.CharField("评估原因", max_length=16, choices=AssessmentReason.choices)  # A.1.3
    status = models.CharField("状态", max_length=16, choices=AssessmentStatus.choices, default=S.REQUESTED)
    request_note = models.CharField("申请说明", max_length=300, blank=True)
    requester_name = models.CharField("申请人", max_length=50, blank=True)  # family members ask through staff
    requester_relation = models.CharField("申请人与老人关系", max_length=20, blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    # Defaults rather than auto_now_add, so records brought in from earlier systems keep their dates.
    requested_at = models.DateTimeField(default=timezone.now)

    agency = models.ForeignKey(Organization, verbose_name="评估机构", null=True, blank=True,
                               on_delete=models.PROTECT, related_name="assessments")
    assigned_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    assigned_at = models.DateTimeField(null=True, blank=True)
    assessor_1 = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="评估员一", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    assessor_2 = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="评估员二", null=True, blank=True,
                                   on_delete=models.PROTECT, related_name="+")
    visit_at = models.DateTimeField("预约上门时间", null=True, blank=True)

    instrument_code = models.CharField("评估标准", max_length=40)
    instrument_version = models.CharField("标准数据版本", max_length=20)
    assessed_on = models.DateField("评估基准日期", null=True, blank=True)  # A.1.2
    # Appendix A as filled on site (height, weight, education, informant, contact, payment…).
    basic_info = models.JSONField(default=dict, blank=True)
    # Appendix B: {item code: chosen option score}; sub-option keys (e.g. B.3.9 coma) apart.
    answers = models.JSONField(default=dict, blank=True)
    answer_keys = models.JSONField(default=dict, blank=True)
    coma = models.BooleanField("昏迷（A.5.11）", default=False)
    diagnoses = models.JSONField("疾病诊断（ICD-10）", default=list, blank=True)
    risk_events_30d = models.JSONField("近30天照护风险事件", default=dict, blank=True)
    needs = models.JSONField("服务需求", default=list, blank=True)  # [{"category": "meal", "frequency": "…"}]
    home_environment = models.JSONField("居家环境", default=dict, blank=True)
    draft_version = models.PositiveIntegerField(default=0)  # bumped by every saved answer
    draft_saved_at = models.DateTimeField(null=True, blank=True)

    # The computed result (rules.score), frozen when the assessment is submitted.
    result = models.JSONField(default=dict, blank=True)
    total_score = models.PositiveSmallIntegerField("总分", null=True, blank=True)
    preliminary_level = models.PositiveSmallIntegerField("初步等级", null=True, blank=True)
    final_level = models.PositiveSmallIntegerField("最终等级", null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)

    reviewed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField("审核意见", max_length=300, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    valid_from = models.DateField("有效期自", null=True, blank=True)
    valid_until = models.DateField("有效期至", null=True, blank=True)
    objection_until = models.DateField("异议期截止", null=True, blank=True)

    review_of = models.ForeignKey("self", verbose_name="复评对象", null=True, blank=True, on_delete=models.PROTECT,
                                  related_name="reviews")
    cancel_reason = models.CharField("取消原因", max_length=300, blank=True)

    class Meta:
        verbose_name = "能力评估"
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["person", "status"], name="assessment_person_status"),
            models.Index(fields=["agency", "status"], name="assessment_agency_status"),
        ]

    def __str__(self) -> str:
        return f"{self.number}（{self.get_status_display()}）"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    def assessors(self) -> list[Any]:
        return [u for u in (self.assessor_1, self.assessor_2) if u is not None]


class Signature(models.Model):
    """A signature drawn on the phone screen (PNG data URL), with the signer's name."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="signatures")
    role = models.CharField(max_length=16, choices=SignerRole.choices)
    name = models.CharField("签名人", max_length=50)
    image = models.TextField()  # data:image/png;base64,…
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+")
    signed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "签名"
        constraints = [models.UniqueConstraint(fields=["assessment", "role"], name="signature_one_per_role")]


class CapabilityRecord(models.Model):
    """The person's current capability level: the latest published assessment."""

    person = models.OneToOneField(Person, on_delete=models.CASCADE, related_name="capability")
    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="+")
    level = models.PositiveSmallIntegerField("能力等级")
    assessed_on = models.DateField("评估日期")
    valid_until = models.DateField("有效期至")

    class Meta:
        verbose_name = "当前能力等级"
        indexes = [models.Index(fields=["valid_until"], name="capability_valid_until")]


class ObjectionStatus(models.TextChoices):
    OPEN = "open", "待处理"
    REVIEW_OPENED = "review_opened", "已启动复评"


class Objection(models.Model):
    assessment = models.ForeignKey(Assessment, on_delete=models.PROTECT, related_name="objections")
    raised_by_name = models.CharField("提出人", max_length=50)
    raised_by_relation = models.CharField("与老人关系", max_length=20)
    reason = models.CharField("异议理由", max_length=500)
    status = models.CharField(max_length=16, choices=ObjectionStatus.choices, default=ObjectionStatus.OPEN)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    review = models.ForeignKey(Assessment, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        verbose_name = "评估异议"


class TriggerKind(models.TextChoices):
    HOSPITAL_DISCHARGE = "hospital_discharge", "出院"
    FALL = "fall", "跌倒"
    STATUS_CHANGE = "status_change", "档案状态变更"
    HEALTH_CHANGE = "health_change", "健康状况明显变化"


class ReassessmentTrigger(models.Model):
    """An event on the file that calls for an immediate re-assessment (即时评估)."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="reassessment_triggers")
    kind = models.CharField("事件", max_length=24, choices=TriggerKind.choices)
    occurred_on = models.DateField("发生日期")
    note = models.CharField("说明", max_length=300, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL,
                                    related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "即时评估事件"
        ordering = ["-occurred_on"]


class AssessmentSettings(models.Model):
    """Per-district parameters. The standard's routine interval was not found (standards.md §1):
    12 months is this platform's default, changeable by the district."""

    district = models.OneToOneField(Region, on_delete=models.CASCADE, related_name="assessment_settings")
    interval_months = models.PositiveSmallIntegerField("复评周期（月）", default=12)
    objection_days = models.PositiveSmallIntegerField("异议期（天）", default=15)
    due_soon_days = models.PositiveSmallIntegerField("到期提醒提前（天）", default=30)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "评估参数"


class RescoreStatus(models.TextChoices):
    PENDING = "pending", "排队中"
    RUNNING = "running", "重算中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class RescoreRun(models.Model):
    """Recomputing stored results after an instrument correction (a new data version)."""

    instrument_code = models.CharField("评估标准", max_length=40)
    instrument_version = models.CharField("新数据版本", max_length=20)
    status = models.CharField(max_length=16, choices=RescoreStatus.choices, default=RescoreStatus.PENDING)
    total = models.PositiveIntegerField(default=0)
    processed = models.PositiveIntegerField(default=0)
    changed = models.PositiveIntegerField("结果有变化", default=0)
    level_changed = models.PositiveIntegerField("等级有变化", default=0)
    message = models.CharField(max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "评估结果重算"
