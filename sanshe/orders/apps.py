from __future__ import annotations

from django.apps import AppConfig


class OrdersConfig(AppConfig):
    name = "sanshe.orders"
    verbose_name = "方案、工单与服务记录"
