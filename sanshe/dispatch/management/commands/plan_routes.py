"""Plan a provider's routes for a day from cron or the shell (the same action as the "路线规划"
page): a proposed plan a manager then checks and publishes."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from sanshe.accounts.models import Membership, Organization, OrganizationKind, User
from sanshe.catalog.access import provider_ids_of
from sanshe.core.errors import UserError
from sanshe.dispatch.route_plans import parse_matrix, plan_routes


class Command(BaseCommand):
    help = "为服务机构规划某日的上门路线（生成待发布的路线方案）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--provider", type=int, required=True, help="服务机构编号")
        parser.add_argument("--date", required=True, help="服务日期（YYYY-MM-DD）")
        parser.add_argument("--seconds", type=float, default=5, help="求解时间（秒，默认 5）")
        parser.add_argument("--matrix", default="", help="可选：行程时间矩阵 JSON 文件")
        parser.add_argument("--user", default="", help="记为规划人的账号（默认该机构的第一位负责人）")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            day = dt.date.fromisoformat(options["date"])
        except ValueError:
            raise CommandError("日期格式应为 YYYY-MM-DD") from None
        provider = Organization.objects.filter(pk=options["provider"], kind=OrganizationKind.PROVIDER).first()
        if provider is None:
            raise CommandError(f"没有编号为 {options['provider']} 的服务机构")
        user = self._planner(provider, options["user"])
        matrix = None
        if options["matrix"]:
            try:
                matrix = parse_matrix(json.loads(Path(options["matrix"]).read_text(encoding="utf-8")))
            except (OSError, ValueError) as exc:
                raise CommandError(f"无法读取行程时间矩阵：{exc}") from None
            except UserError as exc:
                raise CommandError(exc.message) from None
        try:
            plan = plan_routes(provider, day, acting_user=user, seconds=options["seconds"], matrix=matrix)
        except UserError as exc:
            raise CommandError(exc.message) from None
        planned = plan.stops.count()
        self.stdout.write(self.style.SUCCESS(
            f"路线计划 {plan.pk}：{day} 共 {plan.order_count} 单，排入 {planned} 单，未排入 {len(plan.unplanned)} 单，"
            f"总路程 {plan.travel_minutes} 分钟（建模 {plan.build_seconds:.2f} 秒，求解 {plan.solve_seconds:.1f} 秒）"))
        for item in plan.unplanned:
            self.stdout.write(f"  未排入 工单 {item['order']}：{item['reason']}")

    def _planner(self, provider: Organization, username: str) -> User:
        if username:
            user = User.objects.filter(username=username, is_active=True).first()
            if user is None or provider.pk not in provider_ids_of(user):
                raise CommandError(f"账号 {username} 不是 {provider.name} 的负责人")
            return user
        for membership in Membership.objects.filter(organization=provider, is_active=True).select_related("user"):
            if provider.pk in provider_ids_of(membership.user):
                return membership.user
        raise CommandError(f"{provider.name}没有负责人账号，请用 --user 指定规划人")
