"""API: applications for a policy — record one (checked at once against the policy's conditions on
the day it was made), list them (masked, audited) and read one. The same checks as the pages."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from ninja import Field, Router, Schema, Status

from sanshe.core.errors import UserError
from sanshe.eligibility.access import access_applicant, access_application, can_read_applications
from sanshe.eligibility.individual import apply_for
from sanshe.eligibility.lists import application_out, list_applications, policies_open_to, record_applications_view
from sanshe.eligibility.models import ApplicationStatus
from sanshe.people.access import access_person

router = Router(tags=["待遇申请"])
MAX_LIMIT = 200


class ApplicationIn(Schema):
    person_id: int
    policy_id: int
    applicant: str = Field(description="申请人：本人、家属（姓名及关系，如“家属 李芳（女儿）”）或社区代办")
    applied_on: dt.date = Field(description="申请日期，不晚于今天")


class ApplicationOut(Schema):
    id: int
    person_id: int
    person_name: str = Field(description="姓名（脱敏）")
    street: str
    community: str
    policy_id: int
    policy_code: str
    policy: str
    applicant: str
    applied_on: dt.date
    status: str = Field(description="granted 符合条件，已受理；refused 不符合条件")
    status_label: str
    checks: list[str] = Field(description="满足的条件及本人情况")
    failure: str = Field(description="不符合时第一条不满足的条件")
    note: str = Field(description="符合条件时的后续说明，如“自次月起享受”")
    entitlement_id: int | None = Field(description="已生成、进入审核的待遇")
    batch_id: int | None = Field(description="该待遇所在的审批批次")
    recorded_by: str
    recorded_at: dt.datetime


@router.post("/applications", response={201: ApplicationOut},
             summary="受理待遇申请：按申请日期施行的条件即时审核，符合的进入审核，不符合的给出第一条不满足的条件")
def create_application(request: HttpRequest, payload: ApplicationIn) -> Status:
    person = access_applicant(request.user, payload.person_id)
    policy = policies_open_to(person).filter(pk=payload.policy_id).first()
    if policy is None:
        raise UserError("该政策不在施行中或不适用于此人居住的辖区", field="policy_id")
    application = apply_for(person, policy, applicant=payload.applicant, applied_on=payload.applied_on,
                            acting_user=request.user, request=request)
    return Status(201, application_out(access_application(request.user, application.pk)))


@router.get("/applications", response=list[ApplicationOut],
            summary="待遇申请（新的在前；姓名脱敏；仅本人辖区；记入审计日志）")
def get_applications(request: HttpRequest, status: str = "", person_id: int | None = None,
                     limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    if not can_read_applications(request.user):
        raise PermissionDenied("您没有查看待遇申请的权限")
    if status and status not in ApplicationStatus.values:
        raise UserError(f"status 应为 {'、'.join(ApplicationStatus.values)}", field="status")
    person = access_person(request.user, person_id) if person_id is not None else None
    limit, offset = max(1, min(limit, MAX_LIMIT)), max(0, offset)
    rows = list(list_applications(request.user, status=status, person=person)[offset:offset + limit])
    record_applications_view(request.user, count=len(rows), page=offset // limit + 1, request=request,
                     filters={"status": status, "person": person_id})
    return [application_out(a) for a in rows]


@router.get("/applications/{int:application_id}", response=ApplicationOut, summary="一项待遇申请的审核结果")
def get_application(request: HttpRequest, application_id: int) -> dict[str, Any]:
    if not can_read_applications(request.user):
        raise Http404("没有找到该申请")
    return application_out(access_application(request.user, application_id))
