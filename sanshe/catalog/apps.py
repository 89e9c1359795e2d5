from __future__ import annotations

from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "sanshe.catalog"
    verbose_name = "服务目录与服务机构"
