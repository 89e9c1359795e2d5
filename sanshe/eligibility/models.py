"""Policies as data: a policy names its legal basis, fund and benefit; its versions carry the
conditions and amounts with effective dates; a monthly run writes one entitlement per person and
policy with the reason it was granted."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from sanshe.accounts.models import Region
from sanshe.people.models import Person


class Fund(models.Model):
    """Earmarked money a policy is paid from (专款专用)."""

    district = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    code = models.CharField("编码", max_length=32)
    name = models.CharField("名称", max_length=100)

    class Meta:
        verbose_name = "资金"
        constraints = [models.UniqueConstraint(fields=["district", "code"], name="fund_code_per_district")]

    def __str__(self) -> str:
        return self.name


class BenefitKind(models.TextChoices):
    MONTHLY_QUOTA = "monthly_quota", "每月服务额度（元）"
    ANNUAL_VOUCHER = "annual_voucher", "年度服务券"
    MONTHLY_SUBSIDY = "monthly_subsidy", "每月补贴"
    ONE_OFF_GRANT = "one_off_grant", "一次性补助"
    PER_SERVICE = "per_service", "按次（餐）补贴"
    CO_PAYMENT_TIER = "co_payment_tier", "服务收费档次"


class PolicyStatus(models.TextChoices):
    DRAFT = "draft", "草稿"
    ACTIVE = "active", "施行中"
    RETIRED = "retired", "已废止"


class Policy(models.Model):
    district = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    code = models.CharField("编码", max_length=40)
    name = models.CharField("名称", max_length=200)
    legal_basis = models.CharField("政策依据（文号）", max_length=200)
    fund = models.ForeignKey(Fund, verbose_name="资金来源", on_delete=models.PROTECT, related_name="policies")
    benefit_kind = models.CharField("待遇类型", max_length=24, choices=BenefitKind.choices)
    # Policies sharing a group are mutually exclusive: a person gets only the most generous one
    # (就高不就低，不重复享受).
    exclusivity_group = models.CharField("互斥组", max_length=40, blank=True)
    # Codes of policies whose recipients this policy excludes (e.g. home-care-bed nursing subsidy
    # not combined with the disability nursing subsidy).
    excludes = models.JSONField("不与以下待遇同时享受", default=list, blank=True)
    status = models.CharField("状态", max_length=16, choices=PolicyStatus.choices, default=PolicyStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "补贴政策"
        constraints = [models.UniqueConstraint(fields=["district", "code"], name="policy_code_per_district")]

    def __str__(self) -> str:
        return self.name


class Proration(models.TextChoices):
    NONE = "none", "按整月（月初有效即全额）"
    DAILY = "daily", "按天折算"


class PolicyVersion(models.Model):
    """Conditions and amounts from a date on; a later version ends the earlier one the day before."""

    policy = models.ForeignKey(Policy, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField("版本")
    effective_from = models.DateField("生效日期")
    effective_to = models.DateField("失效日期", null=True, blank=True)
    condition = models.JSONField("条件")
    amount = models.DecimalField("金额（元）", max_digits=10, decimal_places=2)
    parameters = models.JSONField("其他参数", default=dict, blank=True)  # e.g. co-payment rate
    proration = models.CharField("月中变化", max_length=8, choices=Proration.choices, default=Proration.NONE)
    note = models.CharField("说明", max_length=300, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "政策版本"
        ordering = ["policy", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["policy", "number"], name="policy_version_number")]


class RunStatus(models.TextChoices):
    RUNNING = "running", "计算中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"


class EntitlementRun(models.Model):
    """One month's evaluation of every active policy for the whole population of a district."""

    district = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    month = models.DateField("月份")  # the first day of the month
    status = models.CharField(max_length=16, choices=RunStatus.choices, default=RunStatus.RUNNING)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    entitlements = models.PositiveIntegerField(default=0)
    total_amount = models.DecimalField(max_digits=14, decimal_places=2, default=0)

    class Meta:
        verbose_name = "月度待遇计算"
        ordering = ["-month", "-id"]


class ChangeFromPrevious(models.TextChoices):
    NEW = "new", "新增"
    CHANGED = "changed", "变更"
    SAME = "same", "不变"


class Entitlement(models.Model):
    run = models.ForeignKey(EntitlementRun, on_delete=models.CASCADE, related_name="rows")
    month = models.DateField("月份")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="entitlements")
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="entitlements")
    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField("金额（元）", max_digits=10, decimal_places=2)
    # Why: the conditions that held, with the person's values, under which version.
    reason = models.JSONField("依据", default=dict)
    change = models.CharField("与上月相比", max_length=8, choices=ChangeFromPrevious.choices)

    class Meta:
        verbose_name = "待遇"
        constraints = [models.UniqueConstraint(fields=["run", "person", "policy"], name="entitlement_once_per_run")]
        indexes = [models.Index(fields=["person", "month"], name="entitlement_person_month")]
