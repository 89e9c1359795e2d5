"""Compute a district's entitlements for a month from cron or the shell (the same checks, audit
record and job as the "计算月度待遇" page; the work is done in this process)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sanshe.accounts.models import Region, RegionLevel, User
from sanshe.core.audit import record_event
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction
from sanshe.eligibility.access import can_manage
from sanshe.eligibility.actions import month_diff
from sanshe.eligibility.models import EntitlementRun
from sanshe.eligibility.tasks import check_month_open, compute_month, month_text


class Command(BaseCommand):
    help = "计算一个区县某月的待遇（免申即享），输出享受人数和金额；已计算的月份不会被重新计算"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--district", required=True, help="区县区划代码，6 位或 12 位，如 330199")
        parser.add_argument("--month", required=True, help="计算月份，如 2026-12")
        parser.add_argument("--user", default="", help="以该账号发起（须有计算月度待遇的权限）；不填记为定时任务")

    def handle(self, *args: Any, **options: Any) -> None:
        code = str(options["district"]).strip()
        if not code.isdigit() or len(code) not in (6, 12):
            raise CommandError("区县区划代码应为 6 位或 12 位数字，如 330199")
        district = Region.objects.filter(code=code.ljust(12, "0"), level=RegionLevel.DISTRICT).first()
        if district is None:
            raise CommandError(f"没有区划代码为 {code} 的区县")
        try:
            month = dt.datetime.strptime(str(options["month"]).strip(), "%Y-%m").date()  # noqa: DTZ007 - a month
        except ValueError:
            raise CommandError("月份格式应为“年-月”，如 2026-12") from None
        user = None
        if options["user"]:
            user = User.objects.filter(username=options["user"], is_active=True).first()
            if user is None:
                raise CommandError(f"账号不存在或已停用：{options['user']}")
            if not can_manage(user, district):
                raise CommandError(f"账号 {user.username} 没有计算{district.name}月度待遇的权限")
        try:
            check_month_open(district, month)
        except UserError as exc:
            raise CommandError(exc.message) from None
        record_event(user, AuditAction.RUN_ENTITLEMENTS, subject=f"{district.name}{month_text(month)}待遇计算",
                     detail={"district": district.code, "month": month.isoformat(), "command": True})
        outcome = compute_month.call(district.pk, month.isoformat(), user.pk if user else None)
        if outcome.get("refused"):
            raise CommandError(outcome["refused"])
        run = EntitlementRun.objects.get(pk=outcome["run_id"])
        self.stdout.write(f"{district.name}{month_text(month)}待遇计算完成：{run.entitlements} 条待遇，"
                          f"合计 {run.total_amount} 元")
        diff = month_diff(run)
        self.stdout.write(f"  与上月相比：新增 {diff.new} 条，变更 {diff.changed} 条，终止 {diff.ended} 条")
        self.stdout.write(f"  同组就高未享受 {outcome.get('dropped_by_group', 0)} 项，"
                          f"因不能同时享受未享受 {outcome.get('dropped_by_exclusion', 0)} 项")
        for note in outcome.get("notes", []):
            self.stdout.write(f"  {note}")
        self.stdout.write(self.style.SUCCESS(f"计算编号 {run.pk}"))
