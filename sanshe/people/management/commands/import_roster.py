"""Import a roster spreadsheet from the command line, as a given user (same checks as the web)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from django.core.files import File
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sanshe.accounts.access import has_capability
from sanshe.accounts.models import Capability, User
from sanshe.people import importer
from sanshe.people.models import ImportJob, ImportStatus


class Command(BaseCommand):
    help = "以指定账号的权限导入人员名单（.xlsx）：先校验，有错误时须加 --valid-rows-only 才导入有效行"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--user", required=True, help="执行导入的账号（用户名）")
        parser.add_argument("--valid-rows-only", action="store_true", help="文件有错误时仅导入有效行")
        parser.add_argument("--check", action="store_true", help="只校验，不导入")

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        if not path.is_file():
            raise CommandError(f"文件不存在：{path}")
        user = User.objects.filter(username=options["user"], is_active=True).first()
        if user is None:
            raise CommandError(f"账号不存在或已停用：{options['user']}")
        if not has_capability(user, Capability.IMPORT_PEOPLE):
            raise CommandError("该账号没有导入名单的权限")
        job = ImportJob(created_by=user, original_name=path.name[:200])
        with path.open("rb") as handle:
            job.file.save(f"roster{path.suffix.lower()}", File(handle), save=False)
        job.save()
        started = time.perf_counter()
        importer.validate_job(job)
        if job.status != ImportStatus.VALIDATED:
            raise CommandError(job.message)
        self.stdout.write(f"校验完成：共 {job.total_rows} 行，有效 {job.valid_rows} 行，错误 {job.error_rows} 行"
                          f"（其中更新已有档案 {job.updated_count} 份）")
        for error in job.row_errors.all()[:50]:
            self.stdout.write(f"  第 {error.row_number} 行 {error.column}：{error.message}")
        if options["check"]:
            return
        problem = importer.can_confirm(job, valid_rows_only=options["valid_rows_only"])
        if problem:
            raise CommandError(problem.replace("选择“仅导入有效行”", "加 --valid-rows-only"))
        ImportJob.objects.filter(pk=job.pk).update(status=ImportStatus.IMPORTING,
                                                   valid_rows_only=options["valid_rows_only"])
        job.refresh_from_db()
        importer.import_job(job)
        self.stdout.write(self.style.SUCCESS(f"{job.message}（用时 {time.perf_counter() - started:.1f} 秒）"))
