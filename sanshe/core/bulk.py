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


def reserve_ids(model: type[models.Model], count: int) -> list[int] | None:
    """Take `count` primary keys from the table's sequence (PostgreSQL), so rows can be copied in
    with their ids known; None elsewhere (the database assigns them)."""
    if connection.vendor != "postgresql" or count == 0:
        return None
    pk = model._meta.pk
    assert pk is not None  # noqa: S101 - every model here has one
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                       [model._meta.db_table, pk.column, count])
        return [row[0] for row in cursor.fetchall()]


def bulk_insert_values(model: type[models.Model], rows: Sequence[dict[str, Any]], *, with_pk: bool = False) -> None:
    """Insert plain rows ({attname: value}, missing columns take the field default) without building
    model instances, whose construction dominates very large loads. With `with_pk`, each row
    carries its primary key (see reserve_ids)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create([model(**row) for row in rows], batch_size=2000)
        return
    fields = _columns(model)
    if with_pk and model._meta.pk is not None:
        fields = [model._meta.pk, *fields]
    now = timezone.now()
    defaults: dict[str, Any] = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now
        else:
            defaults[f.attname] = f.get_default()  # "" for text fields without a default, as Model() does
    json_fields = {f.attname for f in fields if isinstance(f, models.JSONField)}
    attnames = [f.attname for f in fields]
    columns = ", ".join(connection.ops.quote_name(str(f.column)) for f in fields)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for row in rows:
            values = [row.get(name, defaults[name]) for name in attnames]
            if json_fields:
                values = [json.dumps(v, ensure_ascii=False) if n in json_fields else v
                          for n, v in zip(attnames, values, strict=True)]
            copy.write_row(values)


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
                if getattr(obj, name) is None:  # keep a time the caller set (historical records)
                    setattr(obj, name, now)
            row = [getattr(obj, name) for name in attnames]
            if json_fields:
                row = [json.dumps(v, ensure_ascii=False) if n in json_fields else v
                       for n, v in zip(attnames, row, strict=True)]
            copy.write_row(row)


def bulk_update_rows(model: type[models.Model], objs: Sequence[models.Model], fields: Sequence[str]) -> None:
    """Write `fields` of already-loaded objects back; one UPDATE … FROM (VALUES …) on PostgreSQL
    (bulk_update builds a CASE per row and field, which dominates large imports)."""
    if not objs:
        return
    if connection.vendor != "postgresql":
        model._default_manager.bulk_update(objs, list(fields), batch_size=500)
        return
    meta = model._meta
    columns: list[models.Field[Any, Any]] = []
    for name in fields:
        field = meta.get_field(name)
        if not isinstance(field, models.Field):
            raise TypeError(f"bulk_update_rows writes concrete fields only, not {name}")
        columns.append(field)
    pk = meta.pk
    assert pk is not None  # noqa: S101 - every model here has one
    quote = connection.ops.quote_name
    names = [str(pk.column)] + [str(f.column) for f in columns]
    casts = [pk.db_type(connection)] + [f.db_type(connection) for f in columns]
    assignments = ", ".join(f"{quote(n)} = v.{quote(n)}" for n in names[1:])
    for start in range(0, len(objs), 1000):
        chunk = objs[start : start + 1000]
        rows, params = [], []
        for obj in chunk:
            rows.append("(" + ", ".join(f"%s::{cast}" for cast in casts) + ")")
            values = [obj.pk] + [f.get_db_prep_save(getattr(obj, f.attname), connection) for f in columns]
            params.extend(values)
        sql = (f"UPDATE {quote(meta.db_table)} AS t SET {assignments} FROM (VALUES {', '.join(rows)}) "  # noqa: S608 - quoted identifiers, values are parameters
               f"AS v({', '.join(quote(n) for n in names)}) WHERE t.{quote(names[0])} = v.{quote(names[0])}")
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
