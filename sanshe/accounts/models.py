"""Regions (12-digit statistical division codes), organisations, users, memberships and roles."""

from __future__ import annotations

from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class RegionLevel(models.TextChoices):
    PROVINCE = "province", "省"
    CITY = "city", "市"
    DISTRICT = "district", "区县"
    STREET = "street", "街道乡镇"
    COMMUNITY = "community", "社区村"


# How many leading digits of the 12-digit code identify a region of each level
# (统计用区划代码: 2 province + 2 city + 2 county + 3 township + 3 village; standards.md §7.2).
PREFIX_LENGTH = {
    RegionLevel.PROVINCE: 2,
    RegionLevel.CITY: 4,
    RegionLevel.DISTRICT: 6,
    RegionLevel.STREET: 9,
    RegionLevel.COMMUNITY: 12,
}
PARENT_LEVEL = {
    RegionLevel.CITY: RegionLevel.PROVINCE,
    RegionLevel.DISTRICT: RegionLevel.CITY,
    RegionLevel.STREET: RegionLevel.DISTRICT,
    RegionLevel.COMMUNITY: RegionLevel.STREET,
}


def level_of_code(code: str) -> RegionLevel:
    """The level a 12-digit code denotes, from its trailing zeros."""
    if code[9:] != "000":
        return RegionLevel.COMMUNITY
    if code[6:9] != "000":
        return RegionLevel.STREET
    if code[4:6] != "00":
        return RegionLevel.DISTRICT
    if code[2:4] != "00":
        return RegionLevel.CITY
    return RegionLevel.PROVINCE


class Region(models.Model):
    code = models.CharField("区划代码", max_length=12, unique=True)
    name = models.CharField("名称", max_length=100)
    level = models.CharField("层级", max_length=16, choices=RegionLevel.choices)
    parent = models.ForeignKey(
        "self", verbose_name="上级", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    code_year = models.PositiveSmallIntegerField("代码年份", default=2023)
    # Villages (村委会) get the wider rural service circle.
    is_rural = models.BooleanField("农村", default=False)
    # Per-community counter for file numbers (一人一档编号); incremented under a row lock.
    next_file_seq = models.PositiveIntegerField(default=1, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "行政区划"
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        """The leading digits shared by this region and everything below it."""
        return self.code[: PREFIX_LENGTH[RegionLevel(self.level)]]

    def clean(self) -> None:
        if len(self.code) != 12 or not self.code.isdigit():
            raise ValidationError({"code": "区划代码应为12位数字"})
        if self.level and level_of_code(self.code) != self.level:
            raise ValidationError({"code": f"区划代码 {self.code} 与层级“{self.get_level_display()}”不符"})
        if self.parent is not None and not self.code.startswith(self.parent.prefix):
            raise ValidationError({"parent": f"区划代码 {self.code} 不在上级“{self.parent.name}”之下"})

    def full_name(self) -> str:
        names = [self.name]
        node = self.parent
        while node is not None and node.level != RegionLevel.CITY:
            names.append(node.name)
            node = node.parent
        return "".join(reversed(names))


class OrganizationKind(models.TextChoices):
    CIVIL_AFFAIRS_BUREAU = "civil_affairs_bureau", "民政局"
    STREET_OFFICE = "street_office", "街道办事处"
    COMMUNITY_COMMITTEE = "community_committee", "社区居委会/村委会"
    PROVIDER = "provider", "服务机构"
    ASSESSMENT_AGENCY = "assessment_agency", "第三方评估机构"
    SOCIAL_WORK_AGENCY = "social_work_agency", "社会工作服务机构"
    CHARITY = "charity", "慈善组织"
    GOVERNMENT_DEPARTMENT = "government_department", "政府部门"


class Organization(models.Model):
    name = models.CharField("名称", max_length=200, unique=True)
    kind = models.CharField("类型", max_length=32, choices=OrganizationKind.choices)
    region = models.ForeignKey(Region, verbose_name="所在区划", on_delete=models.PROTECT, related_name="organizations")
    credit_code = models.CharField("统一社会信用代码", max_length=18, blank=True)
    contact_phone = models.CharField("联系电话", max_length=20, blank=True)
    address = models.CharField("地址", max_length=200, blank=True)
    is_active = models.BooleanField("在用", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "组织"
        ordering = ["region__code", "name"]

    def __str__(self) -> str:
        return self.name


class Role(models.TextChoices):
    ADMIN = "admin", "系统管理员"
    DISTRICT_OFFICER = "district_officer", "区民政干部"
    STREET_OFFICER = "street_officer", "街道干部"
    ELDER_ASSISTANT = "elder_assistant", "社区助老员/信息员"
    SOCIAL_WORKER = "social_worker", "社工"
    PROVIDER_MANAGER = "provider_manager", "服务机构管理员"
    CAREGIVER = "caregiver", "护理员"
    ASSESSOR = "assessor", "评估员"
    AGENCY_MANAGER = "agency_manager", "评估机构负责人"
    OPERATOR = "operator", "话务调度员"
    VOLUNTEER = "volunteer", "志愿者"
    AUDITOR = "auditor", "审计员（只读）"


class Capability(models.TextChoices):
    VIEW_PEOPLE = "view_people", "查看辖区档案"
    EDIT_PEOPLE = "edit_people", "新建和修改档案"
    REVEAL_ID = "reveal_id", "查看完整身份证号"
    IMPORT_PEOPLE = "import_people", "导入名单"
    EXPORT_PEOPLE = "export_people", "导出名单"
    MANAGE_REGIONS = "manage_regions", "管理区划"
    MANAGE_ACCOUNTS = "manage_accounts", "管理组织和账号"
    VIEW_AUDIT = "view_audit", "查询审计日志"
    REQUEST_ASSESSMENT = "request_assessment", "申请能力评估"
    ASSIGN_ASSESSMENT = "assign_assessment", "指派评估机构"
    CONFIGURE_ASSESSMENT = "configure_assessment", "设置评估参数"
    VIEW_ASSESSMENTS = "view_assessments", "查看辖区评估"
    # Held through an assessment agency membership: scope is the agency's own assessments.
    MANAGE_AGENCY_ASSESSMENTS = "manage_agency_assessments", "评估机构派员、审核和发布"
    PERFORM_ASSESSMENT = "perform_assessment", "上门评估"
    MANAGE_POLICIES = "manage_policies", "制定补贴政策、计算月度待遇"
    VIEW_ENTITLEMENTS = "view_entitlements", "查看辖区待遇"
    APPLY_ENTITLEMENT = "apply_entitlement", "受理待遇申请"
    # The approval level follows the membership's region: a community membership approves at the
    # community step, a street membership at the street step, a district membership at the last.
    APPROVE_ENTITLEMENTS = "approve_entitlements", "审核审批待遇、公示和异议处理"
    MANAGE_CATALOG = "manage_catalog", "维护服务目录、价格、服务机构和购买服务合同"
    VIEW_SERVICES = "view_services", "查看辖区照护方案、工单和服务记录"
    REQUEST_SERVICE = "request_service", "代为申请服务（下单）"
    MANAGE_CARE_PLANS = "manage_care_plans", "制定照护方案并代表社区签署"
    DISPATCH_ORDERS = "dispatch_orders", "派单调度（呼叫中心）"
    REVIEW_SERVICES = "review_services", "核查异常服务记录、处理服务预警和投诉"
    # Held through a provider membership: scope is the provider's own staff, plans and orders.
    RUN_PROVIDER = "run_provider", "服务机构：人员、方案、派单、路线和服务核查"
    # Held through a provider membership by a caregiver: their own orders only.
    DELIVER_SERVICE = "deliver_service", "上门服务（护理员）"


C = Capability
# The role table (role → capabilities). Scope comes from the membership's organisation region:
# a capability held through a district membership covers its streets and communities.
# Providers, caregivers, assessors and volunteers see people only through later assignments
# (orders, assessments), never by region.
ROLE_CAPABILITIES: dict[str, frozenset[Capability]] = {
    Role.ADMIN: frozenset({C.MANAGE_REGIONS, C.MANAGE_ACCOUNTS}),
    Role.DISTRICT_OFFICER: frozenset(
        {C.VIEW_PEOPLE, C.EDIT_PEOPLE, C.REVEAL_ID, C.IMPORT_PEOPLE, C.EXPORT_PEOPLE, C.MANAGE_REGIONS,
         C.REQUEST_ASSESSMENT, C.ASSIGN_ASSESSMENT, C.CONFIGURE_ASSESSMENT, C.VIEW_ASSESSMENTS,
         C.MANAGE_POLICIES, C.VIEW_ENTITLEMENTS, C.APPLY_ENTITLEMENT, C.APPROVE_ENTITLEMENTS,
         C.MANAGE_CATALOG, C.VIEW_SERVICES, C.REQUEST_SERVICE, C.MANAGE_CARE_PLANS, C.REVIEW_SERVICES}
    ),
    Role.STREET_OFFICER: frozenset({C.VIEW_PEOPLE, C.EDIT_PEOPLE, C.REVEAL_ID, C.IMPORT_PEOPLE, C.EXPORT_PEOPLE,
                                    C.REQUEST_ASSESSMENT, C.VIEW_ASSESSMENTS, C.VIEW_ENTITLEMENTS,
                                    C.APPLY_ENTITLEMENT, C.APPROVE_ENTITLEMENTS, C.VIEW_SERVICES,
                                    C.REQUEST_SERVICE, C.MANAGE_CARE_PLANS, C.REVIEW_SERVICES}),
    Role.ELDER_ASSISTANT: frozenset({C.VIEW_PEOPLE, C.EDIT_PEOPLE, C.REVEAL_ID, C.EXPORT_PEOPLE,
                                     C.REQUEST_ASSESSMENT, C.VIEW_ASSESSMENTS, C.VIEW_ENTITLEMENTS,
                                     C.APPLY_ENTITLEMENT, C.APPROVE_ENTITLEMENTS, C.VIEW_SERVICES,
                                     C.REQUEST_SERVICE, C.MANAGE_CARE_PLANS, C.REVIEW_SERVICES}),
    Role.SOCIAL_WORKER: frozenset({C.VIEW_PEOPLE, C.REQUEST_ASSESSMENT, C.VIEW_ASSESSMENTS, C.APPLY_ENTITLEMENT,
                                   C.VIEW_SERVICES, C.REQUEST_SERVICE, C.MANAGE_CARE_PLANS}),
    Role.OPERATOR: frozenset({C.VIEW_PEOPLE, C.VIEW_SERVICES, C.REQUEST_SERVICE, C.DISPATCH_ORDERS}),
    Role.AUDITOR: frozenset({C.VIEW_PEOPLE, C.VIEW_AUDIT, C.VIEW_ASSESSMENTS, C.VIEW_ENTITLEMENTS, C.VIEW_SERVICES}),
    Role.PROVIDER_MANAGER: frozenset({C.RUN_PROVIDER}),
    Role.CAREGIVER: frozenset({C.DELIVER_SERVICE}),
    Role.ASSESSOR: frozenset({C.PERFORM_ASSESSMENT}),
    Role.AGENCY_MANAGER: frozenset({C.MANAGE_AGENCY_ASSESSMENTS}),
    Role.VOLUNTEER: frozenset(),
}


class User(AbstractUser):
    full_name = models.CharField("姓名", max_length=50, blank=True)
    mobile = models.CharField("手机号", max_length=11, unique=True, null=True, blank=True)
    # Encrypted with the platform's field cipher; empty when two-step verification is off.
    totp_secret = models.CharField(max_length=200, blank=True, editable=False)
    totp_enabled_at = models.DateTimeField("两步验证启用时间", null=True, blank=True)
    failed_login_count = models.PositiveSmallIntegerField(default=0, editable=False)
    locked_until = models.DateTimeField("锁定至", null=True, blank=True)

    class Meta:
        verbose_name = "用户"

    @property
    def display_name(self) -> str:
        return self.full_name or self.username

    @property
    def totp_enabled(self) -> bool:
        return self.totp_enabled_at is not None

    def is_locked(self) -> bool:
        return self.locked_until is not None and self.locked_until > timezone.now()


class Membership(models.Model):
    user = models.ForeignKey(User, verbose_name="用户", on_delete=models.CASCADE, related_name="memberships")
    organization = models.ForeignKey(
        Organization, verbose_name="组织", on_delete=models.PROTECT, related_name="memberships"
    )
    role = models.CharField("角色", max_length=32, choices=Role.choices)
    is_active = models.BooleanField("有效", default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "任职"
        constraints = [
            models.UniqueConstraint(fields=["user", "organization", "role"], name="membership_unique_role"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} · {self.get_role_display()}"


class ApiToken(models.Model):
    """A bearer token for API clients; only its SHA-256 is stored."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "接口令牌"
