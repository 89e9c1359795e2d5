"""Roster import and list export pages (being built: see the import/export work)."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


def _todo(request: HttpRequest, **kwargs: object) -> HttpResponse:
    raise Http404("名单导入功能尚未启用")


import_list = import_template = import_detail = import_progress = import_confirm = import_errors = _todo
export_people = _todo
