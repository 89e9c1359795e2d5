from __future__ import annotations

from django.apps import AppConfig


class PeopleConfig(AppConfig):
    name = "sanshe.people"
    label = "people"
    verbose_name = "一人一档"
