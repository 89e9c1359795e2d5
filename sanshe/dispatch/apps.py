from __future__ import annotations

from django.apps import AppConfig


class DispatchConfig(AppConfig):
    name = "sanshe.dispatch"
    verbose_name = "派单与路线"
