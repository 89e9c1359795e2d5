"""A street officer imports a roster in the browser: template, upload, per-row errors, import
of the valid rows only, and the people appear in the list."""

from __future__ import annotations

import io
from typing import Any

import pytest
from openpyxl import Workbook

from sanshe.people.models import ImportJob, Person
from tests.browser.conftest import log_in, shot
from tests.factories import PASSWORD, build_district, build_personas
from tests.test_import_export import BAD_ROWS, good_row

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def roster_file(tmp_path: Any) -> str:
    wb = Workbook()
    ws = wb.worksheets[0]
    ws.title = "人员名单"
    ws.append(["姓名*", "身份证号*", "性别", "出生日期", "联系电话", "居住社区*", "居住地址*", "经济状况", "慢性病"])
    for row in [good_row(1), BAD_ROWS[1][0], BAD_ROWS[5][0], good_row(2, name="孔秀梅", community="柳岸社区")]:
        ws.append(row)
    buffer = io.BytesIO()
    wb.save(buffer)
    path = tmp_path / "特困名单.xlsx"
    path.write_bytes(buffer.getvalue())
    return str(path)


def test_import_with_errors_then_import_valid_rows(page: Any, tmp_path: Any) -> None:
    d = build_district()
    p = build_personas(d)
    log_in(page, p.street_officer.username, PASSWORD)
    page.click("text=名单导入")
    with page.expect_download() as download:
        page.click("text=下载导入模板")
    assert download.value.suggested_filename.endswith(".xlsx")
    shot(page, "import-1-list")

    page.set_input_files("#id_file", roster_file(tmp_path))
    page.click("text=上传并校验")
    page.wait_for_selector("#confirm-form")
    assert "有错误的行" in page.content()
    rows = page.locator("#error-table tbody tr")
    assert rows.count() >= 2
    assert "校验" in page.locator("#error-table").inner_text()
    shot(page, "import-2-errors")

    # Without ticking "valid rows only" nothing is imported.
    page.click("#confirm-form button[value=import]")
    assert "仅导入有效行" in page.locator(".messages").inner_text()
    assert Person.objects.count() == 0

    page.check("#id_valid_rows_only")
    page.click("#confirm-form button[value=import]")
    page.wait_for_selector("#job-message")
    assert "新建 2 份档案" in page.locator("#job-message").inner_text()
    shot(page, "import-3-done")
    job = ImportJob.objects.get()
    assert (job.created_count, job.error_rows) == (2, 2)

    page.goto(page.base + "/people/?q=kxm")
    page.wait_for_selector("text=孔*梅")
    shot(page, "import-4-found")
