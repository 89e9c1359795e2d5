"""Fast bulk insert for large loads (roster imports, the generated district).

On PostgreSQL rows go in with COPY, which skips the per-value preparation of bulk_create and
is several times faster; elsewhere bulk_create is used. Objects must be fully built (defaults
are applied by the model constructor; auto_now fields are filled here). Primary keys are not
set on the objects: callers that need them look them up by a unique column.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from django.db import connection, models
from django.utils import timezone


def _columns(model: type[models.Model]) -> list[models.Field[Any, Any]]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


def bulk_insert(model: type[models.Model], objs: Sequence[models.Model], *, batch_size: int = 2000) -> None:
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(objs, batch_size=batch_size)
        return
    fields = _columns(model)
    now = timezone.now()
    stamped = [f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
    attnames = [f.attname for f in fields]
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for obj in objs:
            for name in stamped:
                setattr(obj, name, now)
            row = [getattr(obj, name) for name in attnames]
            if json_fields:
                row = [json.dumps(v, ensure_ascii=False) if n in json_fields else v
                       for n, v in zip(attnames, row, strict=True)]
            copy.write_row(row)
