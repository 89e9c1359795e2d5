from __future__ import annotations

from django.apps import AppConfig


class EligibilityConfig(AppConfig):
    name = "sanshe.eligibility"
    label = "eligibility"
    verbose_name = "政策与待遇"

    def ready(self) -> None:
        from sanshe.eligibility.receivers import on_file_changed
        from sanshe.people.signals import file_changed

        file_changed.connect(on_file_changed, dispatch_uid="eligibility.reevaluate")
