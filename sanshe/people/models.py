"""The person file (一人一档): identity, residence, economic and special status, health,
contacts, attachments, status history and a history of every change."""

from __future__ import annotations

import uuid
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from sanshe.accounts.models import Region
from sanshe.lib.dates import age_on
from sanshe.lib.masking import mask_name
from sanshe.people.codes import (
    ETHNICITY_CHOICES,
    AttachmentKind,
    DisabilityCategory,
    DisabilityGrade,
    EconomicStatus,
    LivingArrangement,
    MaritalStatus,
    PersonStatus,
    Relation,
    Sex,
    TekunSupportMode,
)

# Special groups (特殊群体) kept as one boolean column each, so policies can query them directly.
SPECIAL_GROUP_FIELDS = {
    "entitled_group": "重点优抚对象",
    "family_planning_special": "计划生育特殊家庭",
    "model_worker": "劳动模范",
    "lost_only_child": "失独",
    "empty_nest": "空巢",
    "left_behind": "留守",
    "lives_with_disabled_child": "仅与重残子女同住",
}


class Person(models.Model):
    file_number = models.CharField("档案编号", max_length=24, unique=True, editable=False)
    name = models.CharField("姓名", max_length=50)
    name_initials = models.CharField("姓名拼音首字母", max_length=50, editable=False)
    sex = models.CharField("性别", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("出生日期", db_index=True)
    # The ID number is stored only encrypted; the keyed blind index serves exact look-up and
    # uniqueness, the masked copy serves lists, exports and public notices.
    id_number_cipher = models.CharField(max_length=200, blank=True, editable=False)
    id_number_index = models.CharField(max_length=64, unique=True, null=True, editable=False)
    id_number_masked = models.CharField("身份证号（脱敏）", max_length=18, blank=True, editable=False)
    ethnicity = models.CharField("民族", max_length=2, choices=ETHNICITY_CHOICES, default="01")
    phone = models.CharField("联系电话", max_length=20, blank=True)

    registered_region = models.ForeignKey(
        Region, verbose_name="户籍地", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    registered_address = models.CharField("户籍地址", max_length=200, blank=True)
    residence_region = models.ForeignKey(
        Region, verbose_name="居住社区", on_delete=models.PROTECT, related_name="residents"
    )
    address = models.CharField("居住地址", max_length=200)
    latitude = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    longitude = models.DecimalField("经度", max_digits=9, decimal_places=6, null=True, blank=True)

    living_arrangement = models.CharField(
        "居住情况", max_length=24, choices=LivingArrangement.choices, default=LivingArrangement.WITH_SPOUSE
    )
    marital_status = models.CharField(
        "婚姻状况", max_length=2, choices=MaritalStatus.choices, default=MaritalStatus.MARRIED
    )
    economic_status = models.CharField(
        "经济状况", max_length=24, choices=EconomicStatus.choices, default=EconomicStatus.ORDINARY
    )
    tekun_support_mode = models.CharField("特困供养方式", max_length=16, choices=TekunSupportMode.choices, blank=True)
    monthly_income = models.DecimalField("月收入（元）", max_digits=10, decimal_places=2, null=True, blank=True)
    monthly_medical_costs = models.DecimalField(
        "月医疗支出（元）", max_digits=10, decimal_places=2, null=True, blank=True
    )

    entitled_group = models.BooleanField(SPECIAL_GROUP_FIELDS["entitled_group"], default=False)
    family_planning_special = models.BooleanField(SPECIAL_GROUP_FIELDS["family_planning_special"], default=False)
    model_worker = models.BooleanField(SPECIAL_GROUP_FIELDS["model_worker"], default=False)
    lost_only_child = models.BooleanField(SPECIAL_GROUP_FIELDS["lost_only_child"], default=False)
    empty_nest = models.BooleanField(SPECIAL_GROUP_FIELDS["empty_nest"], default=False)
    left_behind = models.BooleanField(SPECIAL_GROUP_FIELDS["left_behind"], default=False)
    lives_with_disabled_child = models.BooleanField(
        SPECIAL_GROUP_FIELDS["lives_with_disabled_child"], default=False
    )

    disability_category = models.CharField(
        "残疾类别", max_length=1, choices=DisabilityCategory.choices, blank=True
    )
    disability_grade = models.PositiveSmallIntegerField(
        "残疾等级", choices=DisabilityGrade.choices, null=True, blank=True
    )
    disability_certificate_no = models.CharField("残疾人证号", max_length=30, blank=True)

    chronic_conditions = models.JSONField("慢性病", default=list, blank=True)
    allergies = models.CharField("过敏史", max_length=200, blank=True)
    medications = models.CharField("长期用药", max_length=300, blank=True)
    family_doctor_signed = models.BooleanField("已签约家庭医生", default=False)
    family_doctor = models.CharField("家庭医生/签约机构", max_length=100, blank=True)

    status = models.CharField("状态", max_length=16, choices=PersonStatus.choices, default=PersonStatus.ACTIVE)
    status_since = models.DateField("状态生效日期", null=True, blank=True)
    notes = models.TextField("备注", blank=True)

    # Incremented on every change; edit forms send it back so a stale form never overwrites.
    version = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField("建档时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        verbose_name = "人员档案"
        indexes = [
            models.Index(fields=["residence_region", "id"], name="person_region_id"),
            # Pattern opclasses make LIKE 'prefix%' use the index on PostgreSQL; ignored elsewhere.
            models.Index(fields=["name"], name="person_name_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["name_initials"], name="person_initials_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["phone"], name="person_phone_prefix", opclasses=["varchar_pattern_ops"]),
            models.Index(fields=["economic_status", "residence_region"], name="person_econ_region"),
            models.Index(fields=["status", "residence_region"], name="person_status_region"),
            # Special groups are rare: a small partial index each keeps their lists fast at 1 M people.
            *(models.Index(fields=["residence_region", "id"], condition=models.Q(**{name: True}),
                           name=f"person_{name}"[:30]) for name in SPECIAL_GROUP_FIELDS),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.file_number}）"

    @property
    def masked_name(self) -> str:
        return mask_name(self.name)

    def age(self, on: Any = None) -> int:
        return age_on(self.birth_date, on or timezone.localdate())

    def special_groups(self) -> list[str]:
        return [label for field, label in SPECIAL_GROUP_FIELDS.items() if getattr(self, field)]


class StatusChange(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField("原状态", max_length=16, choices=PersonStatus.choices)
    to_status = models.CharField("新状态", max_length=16, choices=PersonStatus.choices)
    effective_date = models.DateField("生效日期")
    reason = models.CharField("原因", max_length=300)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    recorded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "状态变更"
        ordering = ["-effective_date", "-id"]


class ChangeKind(models.TextChoices):
    CREATE = "create", "建档"
    UPDATE = "update", "修改"
    STATUS = "status", "状态变更"
    IMPORT = "import", "导入"
    CONTACT = "contact", "联系人"
    ATTACHMENT = "attachment", "附件"


class PersonChange(models.Model):
    """History of a file: who changed what, when and why. ID numbers appear only masked."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="changes")
    at = models.DateTimeField(auto_now_add=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    actor_name = models.CharField(max_length=150, blank=True)
    kind = models.CharField(max_length=16, choices=ChangeKind.choices)
    reason = models.CharField("原因", max_length=300, blank=True)
    # {field: [old, new]} with display values; see people.actions.diff_person.
    changes = models.JSONField(default=dict)

    class Meta:
        verbose_name = "档案变更记录"
        ordering = ["-at", "-id"]

    def labelled_changes(self) -> list[tuple[str, Any, Any]]:
        """(Chinese field label, old, new) for display."""
        return [(field_label(name), pair[0], pair[1]) for name, pair in self.changes.items()]


EXTRA_LABELS = {"id_number": "身份证号", "contact": "联系人", "attachment": "附件", "status_since": "状态生效日期"}


def field_label(name: str) -> str:
    if name in EXTRA_LABELS:
        return EXTRA_LABELS[name]
    try:
        return str(getattr(Person._meta.get_field(name), "verbose_name", name))
    except Exception:  # an old history row may name a field that no longer exists
        return name


class Contact(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField("姓名", max_length=50)
    relation = models.CharField("关系", max_length=24, choices=Relation.choices)
    phone = models.CharField("电话", max_length=20)
    address = models.CharField("地址", max_length=200, blank=True)
    is_emergency_contact = models.BooleanField("紧急联系人", default=False)
    is_guardian = models.BooleanField("监护人", default=False)
    may_confirm_services = models.BooleanField("可确认服务", default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "联系人"
        ordering = ["-is_emergency_contact", "id"]

    def __str__(self) -> str:
        return f"{self.name}（{self.get_relation_display()}）"


def attachment_path(instance: Attachment, filename: str) -> str:
    # Random names: the stored path says nothing about the person.
    return f"attachments/{uuid.uuid4().hex}{PurePath(filename).suffix.lower()[:10]}"


class Attachment(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="attachments")
    kind = models.CharField("类型", max_length=32, choices=AttachmentKind.choices)
    file = models.FileField("文件", upload_to=attachment_path)
    original_name = models.CharField("文件名", max_length=200)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "附件"
        ordering = ["-uploaded_at"]


class ImportStatus(models.TextChoices):
    PENDING = "pending", "排队中"
    VALIDATING = "validating", "校验中"
    VALIDATED = "validated", "校验完成，待确认"
    IMPORTING = "importing", "导入中"
    DONE = "done", "已完成"
    FAILED = "failed", "失败"
    CANCELLED = "cancelled", "已取消"


class ImportJob(models.Model):
    """A roster spreadsheet: validated in the background, imported only after the user confirms."""

    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    file = models.FileField(upload_to="imports/")
    original_name = models.CharField("文件名", max_length=200)
    status = models.CharField("状态", max_length=16, choices=ImportStatus.choices, default=ImportStatus.PENDING)
    valid_rows_only = models.BooleanField("仅导入有效行", default=False)
    total_rows = models.PositiveIntegerField("总行数", default=0)
    valid_rows = models.PositiveIntegerField("有效行数", default=0)
    error_rows = models.PositiveIntegerField("错误行数", default=0)
    processed_rows = models.PositiveIntegerField("已处理行数", default=0)
    created_count = models.PositiveIntegerField("新建", default=0)
    updated_count = models.PositiveIntegerField("更新", default=0)
    message = models.CharField("说明", max_length=500, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "名单导入"
        ordering = ["-created_at"]

    @property
    def progress_percent(self) -> int:
        if not self.total_rows:
            return 0
        return min(100, round(100 * self.processed_rows / self.total_rows))


class ImportRowError(models.Model):
    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    row_number = models.PositiveIntegerField("行号")
    column = models.CharField("列", max_length=50, blank=True)
    value = models.CharField("内容", max_length=200, blank=True)
    message = models.CharField("错误", max_length=300)

    class Meta:
        ordering = ["row_number", "id"]


class ProviderLink(models.Model):
    """A service provider currently or formerly serving the person (care plan, home care bed,
    government-purchased services). Used, among others, to refuse conflicted assessments."""

    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="provider_links")
    provider = models.ForeignKey("accounts.Organization", verbose_name="服务机构", on_delete=models.PROTECT,
                                 related_name="+")
    started_on = models.DateField("开始日期")
    ended_on = models.DateField("结束日期", null=True, blank=True)
    note = models.CharField("说明", max_length=200, blank=True)

    class Meta:
        verbose_name = "服务机构关系"
        ordering = ["-started_on"]
