"""Daily route plans of a provider's caregivers, as the planner left them."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from sanshe.accounts.models import Organization
from sanshe.catalog.models import Caregiver
from sanshe.orders.models import ServiceOrder


class RoutePlanStatus(models.TextChoices):
    PROPOSED = "proposed", "待发布"
    PUBLISHED = "published", "已发布"
    DISCARDED = "discarded", "已作废"


class RoutePlan(models.Model):
    provider = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="+")
    service_date = models.DateField("服务日期")
    status = models.CharField("状态", max_length=16, choices=RoutePlanStatus.choices,
                              default=RoutePlanStatus.PROPOSED)
    # Figures of the solve: orders planned and left out, total travel minutes, times in seconds.
    order_count = models.PositiveIntegerField("工单数", default=0)
    unplanned = models.JSONField("未能排入的工单", default=list, blank=True)
    travel_minutes = models.PositiveIntegerField("总路程（分钟）", default=0)
    build_seconds = models.FloatField("建模耗时（秒）", default=0)
    solve_seconds = models.FloatField("求解耗时（秒）", default=0)
    matrix_source = models.CharField("行程时间来源", max_length=100, default="坐标估算")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    published_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "路线计划"
        ordering = ["-service_date", "-created_at"]


class RouteStop(models.Model):
    plan = models.ForeignKey(RoutePlan, on_delete=models.CASCADE, related_name="stops")
    caregiver = models.ForeignKey(Caregiver, on_delete=models.CASCADE, related_name="+")
    sequence = models.PositiveSmallIntegerField("顺序")
    order = models.ForeignKey(ServiceOrder, on_delete=models.CASCADE, related_name="+")
    arrive_at = models.DateTimeField("预计到达")
    start_at = models.DateTimeField("预计开始")
    end_at = models.DateTimeField("预计结束")
    travel_minutes = models.PositiveSmallIntegerField("路程（分钟）")

    class Meta:
        verbose_name = "路线站点"
        ordering = ["plan", "caregiver", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "order"], name="route_stop_order_once"),
        ]
