"""Roster import throughput: write an N-row .xlsx of new people (plus a share of people already
on file, who are updated), then run validation and import exactly as the background worker does,
and report rows per second for each pass and end to end."""

from __future__ import annotations

import datetime as dt
import random
import tempfile
import time
from pathlib import Path
from typing import Any

from django.core.files import File
from openpyxl import Workbook

from sanshe.accounts.models import Region, RegionLevel, Role, User
from sanshe.core.crypto import id_cipher
from sanshe.lib.idnumber import make_id_number
from sanshe.people import importer
from sanshe.people.models import ImportJob, ImportStatus, Person

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "秀英桂兰玉珍凤芝淑华国强建军德明志伟福海春荣金花文清保林永庆素云兴发翠萍美琴"


def write_roster(path: Path, rows: int, seed: int, *, update_share: float = 0.1) -> int:
    """A template-shaped roster; about update_share of the rows are people already on file."""
    rng = random.Random(seed)
    communities = list(Region.objects.filter(level=RegionLevel.COMMUNITY).values_list("code", flat=True))
    existing = list(Person.objects.order_by("?").values_list("id_number_cipher", "name")[: int(rows * update_share)])
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(importer.SHEET_NAME)
    ws.append(["姓名*", "身份证号*", "性别", "出生日期", "联系电话", "居住社区*", "居住地址*", "经济状况", "居住情况", "慢性病"])
    known = [id_cipher().decrypt(cipher) for cipher, _ in existing if cipher]
    used: set[str] = set(known)  # new people never repeat a number already in the file
    updates = 0
    for i in range(rows):
        if i < len(existing) and existing[i][0]:
            number = id_cipher().decrypt(existing[i][0])
            # An update from another department's list: a new phone number and living arrangement.
            ws.append([existing[i][1], number, "", "", f"13{rng.randint(0, 999999999):09d}", "", "", "", "独居", ""])
            updates += 1
            continue
        while True:
            birth = dt.date(rng.randint(1921, 1966), rng.randint(1, 12), rng.randint(1, 28))
            # Area code 330900 keeps the bench people apart from the generated district's numbers.
            number = make_id_number("330900", birth, rng.randint(0, 999))
            if number not in used:
                used.add(number)
                break
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
        ws.append([
            name, number, "", "", f"13{rng.randint(0, 999999999):09d}", rng.choice(communities),
            f"测试路{rng.randint(1, 300)}号{rng.randint(1, 30)}幢{rng.randint(101, 1802)}室",
            rng.choice(["一般", "一般", "一般", "低保", "低收入家庭"]), rng.choice(["独居", "与配偶居住", "与子女居住"]),
            rng.choice(["", "高血压", "高血压、糖尿病"]),
        ])
    wb.save(path)
    return updates


def run_import_benchmark(rows: int, seed: int) -> dict[str, Any]:
    officer = User.objects.filter(memberships__role=Role.DISTRICT_OFFICER).first()
    if officer is None:
        raise SystemExit("the district has no district officer")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "roster.xlsx"
        started = time.perf_counter()
        # A kept database (bench --reuse) already holds an earlier run's roster: draw new people.
        updates = write_roster(path, rows, seed + Person.objects.count())
        print(f"  wrote a {rows:,}-row roster ({updates:,} people already on file) in "
              f"{time.perf_counter() - started:.1f} s, {path.stat().st_size / 1e6:.1f} MB")
        job = ImportJob(created_by=officer, original_name="bench.xlsx")
        with path.open("rb") as handle:
            job.file.save("bench.xlsx", File(handle), save=False)
        job.save()
    before = Person.objects.count()
    started = time.perf_counter()
    importer.validate_job(job)
    validated = time.perf_counter() - started
    if job.status != ImportStatus.VALIDATED or job.error_rows:
        raise SystemExit(f"validation failed: {job.status} {job.message} errors={job.error_rows}")
    job.status = ImportStatus.IMPORTING
    job.save(update_fields=["status"])
    started = time.perf_counter()
    importer.import_job(job)
    imported = time.perf_counter() - started
    after = Person.objects.count()
    result = {
        "what": "roster import", "rows": rows, "created": job.created_count, "updated": job.updated_count,
        "validate_s": round(validated, 1), "import_s": round(imported, 1),
        "validate_rows_per_s": round(rows / validated), "import_rows_per_s": round(rows / imported),
        "end_to_end_rows_per_s": round(rows / (validated + imported)),
    }
    print(f"  validation {validated:.1f} s ({result['validate_rows_per_s']:,} rows/s), "
          f"import {imported:.1f} s ({result['import_rows_per_s']:,} rows/s), "
          f"end to end {result['end_to_end_rows_per_s']:,} rows/s; "
          f"created {job.created_count:,}, updated {job.updated_count:,}, people {before:,} → {after:,}")
    return result
