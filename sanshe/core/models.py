"""The audit log: who saw or exported which personal data, when, through what and why."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class AuditAction(models.TextChoices):
    LOGIN = "login", "登录"
    LOGIN_FAILED = "login_failed", "登录失败"
    ACCOUNT_LOCKED = "account_locked", "账号锁定"
    LOGOUT = "logout", "退出"
    TOTP_ENABLED = "totp_enabled", "启用两步验证"
    TOTP_DISABLED = "totp_disabled", "停用两步验证"
    API_TOKEN = "api_token", "签发接口令牌"
    VIEW_PERSON = "view_person", "查看档案"
    REVEAL_ID = "reveal_id", "查看完整身份证号"
    VIEW_ATTACHMENT = "view_attachment", "查看附件"
    CREATE_PERSON = "create_person", "新建档案"
    UPDATE_PERSON = "update_person", "修改档案"
    CHANGE_STATUS = "change_status", "变更状态"
    EXPORT_PEOPLE = "export_people", "导出名单"
    IMPORT_PEOPLE = "import_people", "导入名单"
    MANAGE_ACCOUNTS = "manage_accounts", "账号与组织管理"
    MANAGE_REGIONS = "manage_regions", "区划管理"
    SEARCH_AUDIT = "search_audit", "查询审计日志"
    VIEW_ASSESSMENT_REPORT = "view_assessment_report", "查看评估报告"
    MANAGE_POLICY = "manage_policy", "维护补贴政策"
    RUN_ENTITLEMENTS = "run_entitlements", "计算月度待遇"
    VIEW_ENTITLEMENTS = "view_entitlements", "查看待遇名单"
    EXPORT_ENTITLEMENTS = "export_entitlements", "导出待遇名单或公示"
    APPROVE_ENTITLEMENTS = "approve_entitlements", "审核审批待遇"
    APPLY_ENTITLEMENT = "apply_entitlement", "受理待遇申请"
    MANAGE_CATALOG = "manage_catalog", "维护服务目录、机构和合同"
    MANAGE_CARE_PLAN = "manage_care_plan", "制定或签署照护方案"
    VIEW_SERVICE = "view_service", "查看工单或服务记录"
    EXPORT_SERVICES = "export_services", "导出服务记录"
    CHANGE_ORDER = "change_order", "工单下单、派单或流转"
    DELIVER_SERVICE = "deliver_service", "签到、签退和服务确认"
    REVIEW_SERVICE = "review_service", "核查服务记录、处理预警或投诉"
    PLAN_ROUTES = "plan_routes", "规划服务路线"


class Channel(models.TextChoices):
    WEB = "web", "网页"
    API = "api", "接口"
    COMMAND = "command", "命令行"


class AuditEvent(models.Model):
    """One append-only record. Rows are never updated or deleted by the platform."""

    at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="操作人", null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    actor_name = models.CharField("操作人姓名", max_length=150, blank=True)
    action = models.CharField("操作", max_length=32, choices=AuditAction.choices, db_index=True)
    channel = models.CharField("渠道", max_length=16, choices=Channel.choices, default=Channel.WEB)
    # The person concerned, by id only: the audit trail must outlive any file and never join it.
    person_id = models.BigIntegerField("档案ID", null=True, blank=True, db_index=True)
    subject = models.CharField("对象", max_length=200, blank=True)
    reason = models.CharField("事由", max_length=500, blank=True)
    row_count = models.PositiveIntegerField("涉及条数", null=True, blank=True)
    ip_address = models.GenericIPAddressField("IP地址", null=True, blank=True)
    detail = models.JSONField("详情", default=dict, blank=True)

    class Meta:
        verbose_name = "审计记录"
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["actor", "-at"], name="audit_actor_at")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor_name} {self.get_action_display()} {self.subject}"
