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
    # 免申即享: the monthly run finds everyone who qualifies. When off, only people whose application
    # was granted receive it (the application is checked against the same conditions).
    proactive = models.BooleanField("免申即享", default=True)
    status = models.CharField("状态", max_length=16, choices=PolicyStatus.choices, default=PolicyStatus.DRAFT)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "补贴政策"
        constraints = [models.UniqueConstraint(fields=["district", "code"], name="policy_code_per_district")]

    def __str__(self) -> str:
        return self.name


class Proration(models.TextChoices):
    # The version in force on the first day of a month applies to the whole month; a person who
    # qualifies or stops qualifying in the middle of a month is paid for the whole month or from
    # the next one.
    NONE = "none", "按整月（当月1日的条件和金额适用全月；月中起享受的次月起发放，月中终止的当月照发）"
    DAILY = "daily", "按天折算（按当月实际享受天数折算，精确到分）"


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


class EntitlementStatus(models.TextChoices):
    PENDING = "pending", "待审批"
    NOTICE = "notice", "公示中"
    ACTIVE = "active", "已生效"
    REJECTED = "rejected", "未通过"
    ENDED = "ended", "已终止"


class EntitlementSource(models.TextChoices):
    RUN = "run", "月度计算"
    APPLICATION = "application", "申请"
    ADJUSTMENT = "adjustment", "动态调整"


class BatchKind(models.TextChoices):
    RUN = "run", "月度计算新增和变更"
    APPLICATION = "application", "待遇申请"
    ADJUSTMENT = "adjustment", "档案变化动态调整"


class BatchStatus(models.TextChoices):
    COMMUNITY = "community", "待社区审核"
    STREET = "street", "待街道审核"
    DISTRICT = "district", "待区民政审批"
    RETURNED = "returned", "已退回"
    NOTICE = "notice", "公示中"
    ACTIVE = "active", "已生效"


class ApprovalBatch(models.Model):
    """New and changed entitlements of one community, on their way through the approval chain
    (community → street → district, each step by a different person than the maker and the other
    approvers), the public notice (公示) and activation."""

    district = models.ForeignKey(Region, on_delete=models.PROTECT, related_name="+")
    community = models.ForeignKey(Region, verbose_name="社区", on_delete=models.PROTECT, related_name="+")
    month = models.DateField("月份")
    run = models.ForeignKey(EntitlementRun, null=True, blank=True, on_delete=models.CASCADE, related_name="batches")
    kind = models.CharField("类型", max_length=16, choices=BatchKind.choices)
    status = models.CharField("状态", max_length=16, choices=BatchStatus.choices, default=BatchStatus.COMMUNITY)
    maker = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="经办人", null=True, on_delete=models.PROTECT,
                              related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    returned_reason = models.CharField("退回原因", max_length=300, blank=True)
    notice_starts = models.DateField("公示开始", null=True, blank=True)
    notice_ends = models.DateField("公示结束", null=True, blank=True)  # the last day of the notice
    activated_at = models.DateTimeField("生效时间", null=True, blank=True)
    activated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                     related_name="+")

    class Meta:
        verbose_name = "待遇审批批次"
        ordering = ["-month", "community__code", "-id"]
        indexes = [models.Index(fields=["status", "community"], name="batch_status_community")]


class StepLevel(models.TextChoices):
    COMMUNITY = "community", "社区审核"
    STREET = "street", "街道审核"
    DISTRICT = "district", "区民政审批"


class StepDecision(models.TextChoices):
    APPROVED = "approved", "通过"
    REJECTED = "rejected", "退回"
    RESUBMITTED = "resubmitted", "修改后重新提交"


class ApprovalStep(models.Model):
    batch = models.ForeignKey(ApprovalBatch, on_delete=models.CASCADE, related_name="steps")
    level = models.CharField("环节", max_length=16, choices=StepLevel.choices)
    decision = models.CharField("结果", max_length=16, choices=StepDecision.choices)
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_at = models.DateTimeField(auto_now_add=True)
    comment = models.CharField("意见", max_length=300, blank=True)

    class Meta:
        verbose_name = "审批记录"
        ordering = ["decided_at", "id"]


class Entitlement(models.Model):
    # A monthly run writes a million rows at once. No index that another one already covers (run by
    # the unique constraint, person by entitlement_person_month; versions are looked up by policy),
    # and no per-row foreign-key triggers: checking five keys row by row at commit took longer than
    # the run itself. (Vouchers and one-off grants, granted once, find earlier
    # grants by scanning: once a month per such policy.) The run checks its rows' references in one set-based query instead
    # (actions.check_references); deletions are still refused by the ORM (PROTECT), and files,
    # policies and versions are never deleted by the platform.
    run = models.ForeignKey(EntitlementRun, on_delete=models.CASCADE, related_name="rows", db_index=False,
                            db_constraint=False)
    month = models.DateField("月份")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="entitlements", db_index=False,
                               db_constraint=False)
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="entitlements", db_index=False,
                               db_constraint=False)
    version = models.ForeignKey(PolicyVersion, on_delete=models.PROTECT, related_name="+", db_index=False,
                                db_constraint=False)
    # The monthly rate (or the voucher, grant or per-service value) under the version(s) in force.
    amount = models.DecimalField("标准（元）", max_digits=10, decimal_places=2)
    # What this month costs: the rate after proration, a start or an end inside the month.
    payable = models.DecimalField("本月应发（元）", max_digits=10, decimal_places=2)
    starts_on = models.DateField("起始日期")
    ended_on = models.DateField("终止日期", null=True, blank=True)  # the first day it no longer applies
    end_reason = models.CharField("终止原因", max_length=300, blank=True)
    # Why: the conditions that held, with the person's values, under which version.
    reason = models.JSONField("依据", default=dict)
    change = models.CharField("与上月相比", max_length=8, choices=ChangeFromPrevious.choices)
    status = models.CharField("状态", max_length=16, choices=EntitlementStatus.choices,
                              default=EntitlementStatus.PENDING)
    source = models.CharField("来源", max_length=16, choices=EntitlementSource.choices, default=EntitlementSource.RUN)
    batch = models.ForeignKey(ApprovalBatch, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="entitlements", db_index=False, db_constraint=False)

    class Meta:
        verbose_name = "待遇"
        constraints = [models.UniqueConstraint(fields=["run", "person", "policy", "starts_on"],
                                               name="entitlement_once_per_start")]
        indexes = [models.Index(fields=["person", "month"], name="entitlement_person_month"),
                   # Only rows on their way through approval have a batch: a small partial index.
                   models.Index(fields=["batch"], name="entitlement_in_batch", condition=models.Q(batch__isnull=False))]


class ObjectionResolution(models.TextChoices):
    OPEN = "", "待处理"
    UPHELD = "upheld", "异议成立（取消该待遇）"
    DISMISSED = "dismissed", "异议不成立（维持）"


class NoticeObjection(models.Model):
    """An objection raised while a batch is on public notice; resolved before the batch activates."""

    batch = models.ForeignKey(ApprovalBatch, on_delete=models.CASCADE, related_name="objections")
    entitlement = models.ForeignKey(Entitlement, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="objections")
    objector = models.CharField("异议人", max_length=100)
    contact = models.CharField("联系方式", max_length=50, blank=True)
    content = models.TextField("异议内容")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    resolution = models.CharField("处理结果", max_length=16, choices=ObjectionResolution.choices, blank=True,
                                  default=ObjectionResolution.OPEN)
    resolution_note = models.CharField("核实情况", max_length=500, blank=True)
    resolved_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                    related_name="+")
    resolved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "公示异议"
        ordering = ["recorded_at", "id"]


class ApplicationStatus(models.TextChoices):
    GRANTED = "granted", "符合条件，已受理"
    REFUSED = "refused", "不符合条件"


class Application(models.Model):
    """A request for a policy by the person or on their behalf, checked against the same rules."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="benefit_applications")
    policy = models.ForeignKey(Policy, on_delete=models.PROTECT, related_name="applications")
    applicant = models.CharField("申请人", max_length=100)  # the person, a relative, or "社区代办"
    applied_on = models.DateField("申请日期")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    recorded_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField("结果", max_length=16, choices=ApplicationStatus.choices)
    # The conditions checked, with the person's values; for a refusal the first one not met.
    outcome = models.JSONField("审核依据", default=dict)
    entitlement = models.ForeignKey(Entitlement, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = "待遇申请"
        ordering = ["-recorded_at", "-id"]


class EligibilitySettings(models.Model):
    district = models.OneToOneField(Region, on_delete=models.PROTECT, related_name="+")
    notice_days = models.PositiveSmallIntegerField("公示天数", default=7)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                   related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "待遇设置"
