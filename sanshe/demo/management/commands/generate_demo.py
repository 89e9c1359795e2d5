"""Generate the demo district 青溪区 with fictional elders, organisations and one account per role."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from sanshe.accounts.models import Region
from sanshe.core.errors import UserError
from sanshe.demo.assessments import generate_assessments
from sanshe.demo.generator import accounts_path, generate, reset_demo_data
from sanshe.demo.policies import generate_policies
from sanshe.demo.services import generate_services


class Command(BaseCommand):
    help = "生成演示辖区“青溪区”：区划、组织、各角色演示账号和虚构的老年人档案"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, default=5000, help="生成的人数（默认 5000）")
        parser.add_argument("--seed", type=int, default=20261122, help="随机种子：种子相同，生成的人员相同")
        parser.add_argument("--if-empty", action="store_true", help="已有区划数据时什么也不做")
        parser.add_argument("--reset", action="store_true", help="先清空数据库中的全部数据，再重新生成")
        parser.add_argument("--force", action="store_true", help="允许在非演示模式下运行（会写入虚构数据）")
        parser.add_argument("--no-policies", action="store_true", help="不生成补贴政策和本月待遇")
        parser.add_argument("--no-services", action="store_true", help="不生成服务机构、照护方案和服务记录")
        parser.add_argument("--assessed", type=float, default=0.8,
                            help="已完成能力评估的人员比例（0–1，默认 0.8；另有约 1%% 的评估申请在办）")

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEMO_MODE and not options["force"]:
            raise CommandError(
                "当前不是演示模式，拒绝生成演示数据：请设置环境变量 SANSHE_DEMO=1 后重试；"
                "确需向当前数据库写入虚构数据时，请加 --force"
            )
        if options["people"] < 0:
            raise CommandError("人数不能为负数")
        if options["reset"]:
            if not settings.DEMO_MODE:
                # --reset empties every table: never on a database that may hold real files.
                raise CommandError("清空数据只允许在演示模式下进行（SANSHE_DEMO=1）")
            reset_demo_data()
            self.stdout.write("已清空原有数据。")
        elif Region.objects.exists():
            if options["if_empty"]:
                self.stdout.write("演示辖区已存在，未重新生成（如需重新生成，请运行 generate_demo --reset）。")
                return
            raise CommandError("数据库中已有区划数据：如需重新生成演示辖区，请加 --reset（将清空全部数据）")
        self.stdout.write(f"正在生成演示辖区“青溪区”，共 {options['people']:,} 人……")
        try:
            summary = generate(options["people"], options["seed"], stdout=self.stdout)
        except UserError as exc:
            raise CommandError(f"{exc.message}（可加 --reset 清空后重新生成）") from None
        self.stdout.write(self.style.SUCCESS(
            f"演示辖区已生成：区划 {summary.regions} 个，组织 {summary.organizations} 个，"
            f"演示账号 {summary.accounts} 个，人员 {summary.people:,} 人（联系人 {summary.contacts:,} 个），"
            f"用时 {summary.seconds:.1f} 秒。"
        ))
        if options["assessed"] > 0:
            started = time.perf_counter()
            assessed = generate_assessments(options["seed"], share=min(1.0, options["assessed"]))
            self.stdout.write(self.style.SUCCESS(
                f"能力评估已生成：已生效 {assessed.published:,} 份（其中逾期未复评 {assessed.overdue:,} 人），"
                f"在办申请 {assessed.open:,} 份，用时 {time.perf_counter() - started:.1f} 秒。"
            ))
        if not options["no_policies"]:
            started = time.perf_counter()
            granted = generate_policies()
            self.stdout.write(self.style.SUCCESS(
                f"补贴政策已生成并计算本月待遇：{granted:,} 条，用时 {time.perf_counter() - started:.1f} 秒。"))
        if not options["no_services"]:
            started = time.perf_counter()
            services = generate_services(options["seed"])
            self.stdout.write(self.style.SUCCESS(
                f"服务数据已生成：服务项目 {services.items} 项，护理员 {services.caregivers} 人，照护方案 {services.plans} 份，"
                f"家庭养老床位 {services.beds} 张，工单 {services.orders:,} 张，服务记录 {services.records:,} 条"
                f"（其中异常待核查 {services.flagged} 条），用时 {time.perf_counter() - started:.1f} 秒。"))
        self.stdout.write(f"演示账号和密码已写入 {accounts_path()}，可运行 python manage.py demo_accounts 查看。")
