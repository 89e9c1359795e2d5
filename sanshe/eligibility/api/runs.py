"""API: the monthly run — start it (a background job), follow the job, the runs with their
difference from the previous month, a run's entitlement list and ended list (masked, audited) —
and the simulation of a policy change. The same checks and queries as the pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import Field, Router, Schema, Status

from sanshe.accounts.access import has_capability
from sanshe.accounts.models import Capability, Region, RegionLevel
from sanshe.core.errors import UserError
from sanshe.eligibility import actions
from sanshe.eligibility.access import (
    access_run,
    can_manage,
    can_read_policies,
    managed_districts,
    visible_runs,
    works_in,
)
from sanshe.eligibility.lists import (
    RowFilter,
    end_reasons,
    ended_rows,
    entitlement_rows,
    previous_run,
    record_list_view,
    row_out,
    run_simulation,
)
from sanshe.eligibility.models import (
    ChangeFromPrevious,
    EntitlementRun,
    EntitlementStatus,
    Policy,
    PolicyStatus,
    RunStatus,
)
from sanshe.eligibility.tasks import JobState, find_job, job_state, start_month_run

router = Router(tags=["月度待遇"])
MAX_LIMIT = 200


class RunIn(Schema):
    month: str = Field(description="计算月份，如 2026-12")
    district_code: str = Field("", description="区县区划代码（6 或 12 位）；只管理一个区县时可不填")


class JobOut(Schema):
    job_id: str
    status: str = Field(description="queued 排队、running 计算中、done 已完成、refused 未计算（如该月已计算）、failed 失败")
    status_label: str
    district_code: str
    month: dt.date
    run_id: int | None = Field(description="计算完成后的月度计算编号")
    message: str


class DiffOut(Schema):
    new: int = Field(description="新增（上月没有、本月享受）")
    changed: int = Field(description="变更（同一政策金额变化）")
    ended: int = Field(description="终止（上月享受、本月不再享受）")
    cost_by_fund: dict[str, Decimal]
    cost_by_street: dict[str, Decimal]
    total: Decimal = Field(description="本月合计（元）")
    previous_total: Decimal | None = Field(description="上月合计（元）；上月未计算为 null")


class RunOut(Schema):
    id: int
    district_code: str
    district: str
    month: dt.date
    status: str
    status_label: str
    entitlements: int
    total_amount: Decimal
    started_by: str
    started_at: dt.datetime
    finished_at: dt.datetime | None


class RunDetailOut(RunOut):
    diff: DiffOut | None = Field(description="与上月相比；未计算完成时为 null")


class _PersonRowOut(Schema):
    """What the entitlement list and the ended list both show of a row."""

    id: int
    person_id: int
    person_name: str = Field(description="姓名（脱敏）")
    id_number: str = Field(description="身份证号（脱敏）")
    street: str
    community: str
    policy_code: str
    policy: str
    fund: str
    amount: Decimal = Field(description="标准（元）")


class EntitlementRowOut(_PersonRowOut):
    payable: Decimal = Field(description="本月应发（元）")
    change: str
    change_label: str
    status: str
    status_label: str
    starts_on: dt.date
    ended_on: dt.date | None
    reasons: list[str] = Field(description="符合的条件及本人情况")
    competing: list[str] = Field(description="同时符合但未享受的待遇及原因")


class EntitlementPage(Schema):
    total: int
    rows: list[EntitlementRowOut]


class EndedRowOut(_PersonRowOut):
    id: int = Field(description="上月待遇编号")
    amount: Decimal = Field(description="上月标准（元）")
    end_reason: str = Field(description="终止原因（死亡或迁出、同组改享、不再符合的条件）")


class EndedPage(Schema):
    total: int
    rows: list[EndedRowOut]


class SimulationIn(Schema):
    policy_id: int
    month: str = Field("", description="按哪个月的在册人员测算，如 2026-12；默认本月")
    amount: Decimal = Field(description="调整后的金额（元）")
    condition: dict[str, Any] = Field(description='调整后的享受条件（条件树），如 {"field": "age", "op": "gte", "value": 75}')


class SimulationOut(Schema):
    month: dt.date
    gains: int = Field(description="每月所得增加的人数")
    losses: int = Field(description="每月所得减少或不再享受的人数")
    cost_before: Decimal = Field(description="调整前每月（元）")
    cost_after: Decimal = Field(description="调整后每月（元）")
    change: Decimal
    by_street: dict[str, Decimal] = Field(description="各街道每月变化（元）")
    by_fund: dict[str, Decimal] = Field(description="各资金来源每月变化（元）")


def _month(text: str, field: str = "month") -> dt.date:
    try:
        return dt.datetime.strptime(text.strip()[:7], "%Y-%m").date()  # noqa: DTZ007 - a calendar month
    except ValueError:
        raise UserError("月份格式应为“年-月”，如 2026-12", field=field) from None


def _district(request: HttpRequest, code: str) -> Region:
    """The district to run: the one named (it must be managed by the user), or the only one."""
    if not has_capability(request.user, Capability.MANAGE_POLICIES):
        raise PermissionDenied("您没有计算月度待遇的权限")
    if not code:
        districts = list(managed_districts(request.user)[:2])
        if len(districts) != 1:
            raise UserError("请提供区县的区划代码", field="district_code")
        return districts[0]
    region = Region.objects.filter(code=code.strip().ljust(12, "0"), level=RegionLevel.DISTRICT).first()
    if region is None or not can_manage(request.user, region):
        raise Http404("没有找到该区县")
    return region


def _job_out(job: JobState, district: Region) -> dict[str, Any]:
    return {"job_id": job.id, "status": job.status, "status_label": job.label, "district_code": district.code,
            "month": job.month, "run_id": job.run_id, "message": job.message}


def _run_out(run: EntitlementRun) -> dict[str, Any]:
    return {"id": run.pk, "district_code": run.district.code, "district": run.district.name, "month": run.month,
            "status": run.status, "status_label": run.get_status_display(), "entitlements": run.entitlements,
            "total_amount": run.total_amount,
            "started_by": run.started_by.display_name if run.started_by else "",
            "started_at": run.started_at, "finished_at": run.finished_at}


@router.post("/runs", response={202: JobOut}, summary="发起月度待遇计算（后台进行；已计算的月份会被拒绝）")
def start_run(request: HttpRequest, payload: RunIn) -> Status:
    district = _district(request, payload.district_code)
    result = start_month_run(district, _month(payload.month), acting_user=request.user, request=request)
    return Status(202, _job_out(job_state(result), district))


@router.get("/runs/jobs/{job_id}", response=JobOut, summary="计算任务的进度和结果")
def get_job(request: HttpRequest, job_id: str) -> dict[str, Any]:
    job = find_job(job_id)
    district = Region.objects.filter(pk=job.district_id).first() if job else None
    if job is None or district is None or not can_manage(request.user, district):
        raise Http404("没有找到该计算任务")
    return _job_out(job, district)


@router.get("/runs", response=list[RunOut], summary="月度待遇计算记录（新的在前）")
def list_runs(request: HttpRequest, district_code: str = "", limit: int = 24, offset: int = 0) -> list[dict[str, Any]]:
    if not can_read_policies(request.user):
        raise PermissionDenied("您没有查看待遇的权限")
    qs = visible_runs(request.user).select_related("district", "started_by").order_by("-month", "-id")
    if district_code:
        qs = qs.filter(district__code=district_code.strip().ljust(12, "0"))
    limit = max(1, min(limit, MAX_LIMIT))
    offset = max(0, offset)
    return [_run_out(r) for r in qs[offset:offset + limit]]


@router.get("/runs/{int:run_id}", response=RunDetailOut, summary="一次月度计算及与上月相比的新增、变更、终止和资金")
def get_run(request: HttpRequest, run_id: int) -> dict[str, Any]:
    if not can_read_policies(request.user):
        raise PermissionDenied("您没有查看待遇的权限")
    run = access_run(request.user, run_id)
    data = _run_out(run)
    data["diff"] = None
    if run.status == RunStatus.DONE:
        diff = actions.month_diff(run)
        before = previous_run(run)
        data["diff"] = {"new": diff.new, "changed": diff.changed, "ended": diff.ended,
                        "cost_by_fund": diff.cost_by_fund, "cost_by_street": diff.cost_by_street,
                        "total": run.total_amount, "previous_total": before.total_amount if before else None}
    return data


def _done_run(request: HttpRequest, run_id: int) -> EntitlementRun:
    if not has_capability(request.user, Capability.VIEW_ENTITLEMENTS):
        raise PermissionDenied("您没有查看待遇名单的权限")
    run = access_run(request.user, run_id)
    if run.status != RunStatus.DONE:
        raise UserError("该月待遇尚未计算完成")
    return run


def _row_filter(request: HttpRequest, run: EntitlementRun, *, region_code: str, policy_code: str,
                change: str = "", status: str = "") -> RowFilter:
    f = RowFilter()
    if region_code:
        region = Region.objects.filter(code=region_code.strip().ljust(12, "0"),
                                       code__startswith=run.district.prefix).first()
        if region is None or not works_in(request.user, region, Capability.VIEW_ENTITLEMENTS):
            raise Http404("没有找到该区划")
        f.region = region
    if policy_code:
        f.policy = Policy.objects.filter(district=run.district, code=policy_code).first()
        if f.policy is None:
            raise UserError(f"没有编码为“{policy_code}”的政策", field="policy_code")
    if change:
        if change not in ChangeFromPrevious.values:
            raise UserError(f"change 应为 {'、'.join(ChangeFromPrevious.values)}", field="change")
        f.change = change
    if status:
        if status not in EntitlementStatus.values:
            raise UserError(f"status 应为 {'、'.join(EntitlementStatus.values)}", field="status")
        f.status = status
    return f


def _rows_page(request: HttpRequest, run: EntitlementRun, f: RowFilter, *, ended: bool, limit: int,
               offset: int) -> dict[str, Any]:
    """One page of the entitlement list or the ended list, audited as a view of the list."""
    qs = ended_rows(request.user, run, f) if ended else entitlement_rows(request.user, run, f)
    limit, offset = max(1, min(limit, MAX_LIMIT)), max(0, offset)
    rows = list(qs[offset:offset + limit])
    reasons = end_reasons(run, rows) if ended else {}
    record_list_view(request.user, run, f, ended=ended, count=len(rows), page=offset // limit + 1, request=request)
    out = []
    for e in rows:
        r = row_out(e, end_reason=reasons.get(e.pk, ""))
        r["person_name"] = r.pop("name")
        out.append(r)
    return {"total": qs.count(), "rows": out}


@router.get("/runs/{int:run_id}/entitlements", response=EntitlementPage,
            summary="一次月度计算的待遇名单（姓名、身份证号脱敏；仅本人辖区；记入审计日志）")
def run_entitlements(request: HttpRequest, run_id: int, region_code: str = "", policy_code: str = "",
                     change: str = "", status: str = "", limit: int = 50, offset: int = 0) -> dict[str, Any]:
    run = _done_run(request, run_id)
    f = _row_filter(request, run, region_code=region_code, policy_code=policy_code, change=change, status=status)
    return _rows_page(request, run, f, ended=False, limit=limit, offset=offset)


@router.get("/runs/{int:run_id}/ended", response=EndedPage,
            summary="终止名单：上月享受、本月不再享受的待遇及原因（脱敏；仅本人辖区；记入审计日志）")
def run_ended(request: HttpRequest, run_id: int, region_code: str = "", policy_code: str = "",
              limit: int = 50, offset: int = 0) -> dict[str, Any]:
    run = _done_run(request, run_id)
    f = _row_filter(request, run, region_code=region_code, policy_code=policy_code)
    return _rows_page(request, run, f, ended=True, limit=limit, offset=offset)


@router.post("/simulations", response=SimulationOut,
             summary="政策调整测算：按某月在册人员测算受益、减少人数和资金变化（不保存任何数据）")
def simulate(request: HttpRequest, payload: SimulationIn) -> dict[str, Any]:
    if not has_capability(request.user, Capability.MANAGE_POLICIES):
        raise PermissionDenied("您没有测算政策调整的权限")
    policy = (Policy.objects.filter(pk=payload.policy_id, district__in=managed_districts(request.user))
              .exclude(status=PolicyStatus.RETIRED).select_related("district", "fund").first())
    if policy is None:
        raise Http404("没有找到该政策")
    month = _month(payload.month) if payload.month else actions.first_of_month(timezone.localdate())
    if payload.amount < 0 or payload.amount != payload.amount.quantize(Decimal("0.01")):
        raise UserError("金额应为不小于 0 的数，最多保留两位小数", field="amount")
    result = run_simulation(policy, month, condition=payload.condition, amount=payload.amount)
    return {"month": month, "gains": result.gains, "losses": result.losses, "cost_before": result.cost_before,
            "cost_after": result.cost_after, "change": result.cost_after - result.cost_before,
            "by_street": result.by_street, "by_fund": result.by_fund}
