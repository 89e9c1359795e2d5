from __future__ import annotations

from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "sanshe.accounts"
    label = "accounts"
    verbose_name = "区划、组织与账号"
