from __future__ import annotations

from django.apps import AppConfig


class AssessmentsConfig(AppConfig):
    name = "sanshe.assessments"
    label = "assessments"
    verbose_name = "能力评估"
