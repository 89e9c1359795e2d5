from __future__ import annotations

from django.apps import AppConfig


class EligibilityConfig(AppConfig):
    name = "sanshe.eligibility"
    label = "eligibility"
    verbose_name = "政策与待遇"
