"""Set up a real (non-demo) installation: the district, its civil-affairs bureau and the first
system administrator, who then creates everything else in the web UI."""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from sanshe.accounts import actions
from sanshe.accounts.models import Organization, OrganizationKind, Role
from sanshe.core.errors import UserError


class Command(BaseCommand):
    help = "创建区县、区民政局和第一个系统管理员（正式部署时使用）"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--district-code", required=True, help="区县12位统计用区划代码，如 330106000000")
        parser.add_argument("--district-name", required=True, help="区县名称，如 西湖区")
        parser.add_argument("--bureau", help="民政局名称（默认：<区县名称>民政局）")
        parser.add_argument("--username", default="admin")
        parser.add_argument("--full-name", default="系统管理员")
        parser.add_argument("--mobile", default="")

    def handle(self, *args: Any, **options: Any) -> None:
        password = os.environ.get("SANSHE_ADMIN_PASSWORD") or ""
        if not password:
            if not os.isatty(0):
                raise CommandError("请通过环境变量 SANSHE_ADMIN_PASSWORD 提供管理员密码，或在终端中运行以输入密码")
            password = getpass.getpass("管理员密码：")
            if password != getpass.getpass("再次输入密码："):
                raise CommandError("两次输入的密码不一致")
        try:
            with transaction.atomic():
                region, _ = actions.save_region(code=options["district_code"], name=options["district_name"])
                if region.level != "district":
                    raise UserError("请填写区县一级的区划代码（后6位为0）")
                bureau_name = options["bureau"] or f"{region.name}民政局"
                bureau = Organization.objects.filter(name=bureau_name).first() or actions.create_organization(
                    name=bureau_name, kind=OrganizationKind.CIVIL_AFFAIRS_BUREAU, region=region
                )
                user = actions.create_user(
                    username=options["username"], password=password, full_name=options["full_name"],
                    mobile=options["mobile"],
                )
                actions.add_membership(user, organization=bureau, role=Role.ADMIN)
        except UserError as exc:
            raise CommandError(exc.message) from None
        self.stdout.write(self.style.SUCCESS(
            f"已创建：{region.name}（{region.code}）、{bureau.name}、系统管理员 {user.username}。"
            "请登录后导入街道社区区划、创建组织和账号，并为管理员启用两步验证。"
        ))
