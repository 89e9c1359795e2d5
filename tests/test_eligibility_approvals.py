"""Approval and public notice of new and changed entitlements, read like the procedure in the seed
documents: the community committee takes applications and checks them (调查核实), the street
service centre does the first review (资格初审) and "区民政局审批、备案" (seed 001_47f0e4c388d9ed24.txt,
七、申请和审批程序; 居家养老服务站 … 资格初审); the village/residents' committee helps with
"调查核实、张榜公示" and the beneficiaries are published in their community (seed
004_9aa607e24a65a33b.txt, 职责分工 and 6.监督管理).

Here: community → street → district, each step by a different person than the maker and than the
other approvers of the round; a rejection goes back to the maker with a reason; after the district
step a notice for the district's number of days, masked; objections resolved before activation."""

from __future__ import annotations

import datetime as dt
import io
import threading
from decimal import Decimal
from typing import Any

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import connection, transaction
from django.http import Http404
from django.test import Client
from django.utils import timezone
from openpyxl import load_workbook

from sanshe.accounts import actions as account_actions
from sanshe.accounts.models import Role, User
from sanshe.core.crypto import id_cipher
from sanshe.core.errors import UserError
from sanshe.core.models import AuditAction, AuditEvent
from sanshe.eligibility import access, approvals
from sanshe.eligibility.models import (
    ApprovalBatch,
    ApprovalStep,
    BatchKind,
    BatchStatus,
    EligibilitySettings,
    Entitlement,
    EntitlementRun,
    EntitlementStatus,
    Fund,
    NoticeObjection,
    Policy,
    PolicyStatus,
    PolicyVersion,
    RunStatus,
)
from sanshe.people.models import Person
from tests.factories import District, Personas, client_for, make_person, make_user

pytestmark = pytest.mark.django_db
B = BatchStatus
E = EntitlementStatus
MONTH = dt.date(2026, 12, 1)
NAMES_A1 = ("王秀英", "李桂兰")
NAME_A2 = "陈德明"


def _policy(d: District, by: User, code: str, name: str, amount: str) -> Policy:
    fund, _ = Fund.objects.get_or_create(district=d.district, code="welfare", defaults={"name": "福彩公益金"})
    p = Policy.objects.create(district=d.district, code=code, name=name, legal_basis="上政发〔2015〕1号", fund=fund,
                              benefit_kind="monthly_quota", status=PolicyStatus.ACTIVE, created_by=by)
    PolicyVersion.objects.create(policy=p, number=1, effective_from=dt.date(2026, 1, 1), amount=Decimal(amount),
                                 condition={"field": "age", "op": "gte", "value": 80}, created_by=by)
    return p


def _row(run: EntitlementRun, person: Person, policy: Policy, amount: str, change: str = "new") -> Entitlement:
    return Entitlement.objects.create(
        run=run, month=run.month, person=person, policy=policy, version=policy.versions.get(), amount=Decimal(amount),
        payable=Decimal(amount), starts_on=run.month, change=change, status=E.PENDING,
        reason={"version": 1, "checks": ["年龄 86岁 ≥ 80岁"], "competing": []})


class World:
    """A monthly run of the district officer: two people of 杏林社区 (A1) and one of 柳岸社区 (A2)."""

    def __init__(self, d: District, p: Personas) -> None:
        self.d, self.p = d, p
        by = p.district_officer
        self.aged = _policy(d, by, "aged_80", "80岁以上老人养老服务补贴", "500")
        self.dependent = _policy(d, by, "dependent", "生活不能自理老人养老服务补贴", "800")
        self.run = EntitlementRun.objects.create(district=d.district, month=MONTH, status=RunStatus.DONE,
                                                 started_by=by)
        self.people = [make_person(d.community_a1, by=by, name=n, birth_date=dt.date(1940, 3, 2)) for n in NAMES_A1]
        self.neighbour = make_person(d.community_a2, by=by, name=NAME_A2, birth_date=dt.date(1938, 6, 9))
        self.rows = [_row(self.run, self.people[0], self.aged, "500"),
                     _row(self.run, self.people[1], self.dependent, "800", change="changed"),
                     _row(self.run, self.neighbour, self.aged, "500")]
        # A second district officer: the maker of the run may not approve its district step.
        self.district_2 = make_user("district2", d.bureau, Role.DISTRICT_OFFICER, full_name="陈民政")

    def batches(self) -> tuple[ApprovalBatch, ApprovalBatch]:
        """The run's rows of each community in a batch (run_month opens them as it writes the rows)."""
        by = self.p.district_officer
        a1 = approvals.open_batch(self.rows[:2], kind=BatchKind.RUN, maker=by)
        a2 = approvals.open_batch(self.rows[2:], kind=BatchKind.RUN, maker=by)
        return a1, a2

    def to_notice(self, batch: ApprovalBatch) -> ApprovalBatch:
        worker = self.p.community_worker if batch.community_id == self.d.community_a1.pk else self.p.neighbour_worker
        approvals.approve(batch, acting_user=worker, comment="经入户核实，情况属实")
        approvals.approve(batch, acting_user=self.p.street_officer)
        return approvals.approve(batch, acting_user=self.district_2)


@pytest.fixture
def world(district: District, personas: Personas) -> World:
    return World(district, personas)


def fresh(batch: ApprovalBatch) -> ApprovalBatch:
    return ApprovalBatch.objects.select_related("community__parent", "district").get(pk=batch.pk)


def state(batch: ApprovalBatch) -> tuple[Any, ...]:
    """Everything a refused action must leave untouched."""
    b = fresh(batch)
    return (b.status, b.returned_reason, b.notice_starts, b.notice_ends, b.activated_at,
            ApprovalStep.objects.filter(batch=b).count(),
            tuple(b.entitlements.order_by("pk").values_list("status", "end_reason")),
            tuple(NoticeObjection.objects.filter(batch=b).values_list("resolution", "entitlement_id")))


def full_id(person: Person) -> str:
    return id_cipher().decrypt(person.id_number_cipher)


def audits(action: AuditAction) -> int:
    return AuditEvent.objects.filter(action=action).count()


# --- opening batches ---------------------------------------------------------------------------


def test_a_batch_holds_one_communitys_rows(world: World) -> None:
    a1, a2 = world.batches()
    assert (a1.kind, a1.status, a1.month, a1.run_id, a1.maker) == ("run", B.COMMUNITY, MONTH, world.run.pk,
                                                                   world.p.district_officer)
    assert set(a1.entitlements.values_list("person__name", flat=True)) == set(NAMES_A1)
    assert list(a2.entitlements.values_list("person__name", flat=True)) == [NAME_A2]
    with pytest.raises(UserError, match="尚未进入审批"):  # every row already has a batch
        approvals.open_batch(world.rows[:1], kind=BatchKind.RUN, maker=world.p.district_officer)


def test_an_application_batch_holds_rows_of_one_community(world: World) -> None:
    with pytest.raises(UserError, match="同一社区"):
        approvals.open_batch(world.rows, kind="application", maker=world.p.community_worker)
    assert ApprovalBatch.objects.count() == 0
    batch = approvals.open_batch(world.rows[:2], kind="application", maker=world.p.community_worker)
    assert (batch.kind, batch.community, batch.run) == ("application", world.d.community_a1, None)
    with pytest.raises(UserError, match="尚未进入审批"):
        approvals.open_batch(world.rows[:1], kind="application", maker=world.p.community_worker)


# --- the chain ---------------------------------------------------------------------------------


def test_three_different_people_take_a_batch_through_the_chain_to_the_notice(world: World) -> None:
    a1, _ = world.batches()
    today = timezone.localdate()
    assert approvals.approve(a1, acting_user=world.p.community_worker).status == B.STREET
    assert approvals.approve(a1, acting_user=world.p.street_officer).status == B.DISTRICT
    done = approvals.approve(a1, acting_user=world.district_2, comment="同意")
    assert done.status == B.NOTICE
    assert (done.notice_starts, done.notice_ends) == (today, today + dt.timedelta(days=6))  # 7 days by default
    assert set(a1.entitlements.values_list("status", flat=True)) == {E.NOTICE}
    steps = list(ApprovalStep.objects.filter(batch=a1).values_list("level", "decision", "decided_by__username"))
    assert steps == [("community", "approved", "worker"), ("street", "approved", "street"),
                     ("district", "approved", "district2")]
    assert audits(AuditAction.APPROVE_ENTITLEMENTS) == 3


def test_the_maker_is_refused_at_every_step(world: World, district: District) -> None:
    """A maker who holds approval at all three levels still reviews none of their own rows."""
    maker = make_user("allround", district.committee_a1, Role.ELDER_ASSISTANT, full_name="周经办")
    account_actions.add_membership(maker, organization=district.street_office_a, role=Role.STREET_OFFICER)
    account_actions.add_membership(maker, organization=district.bureau, role=Role.DISTRICT_OFFICER)
    batch = approvals.open_batch(world.rows[:2], kind="application", maker=maker)
    others = [world.p.community_worker, world.p.street_officer, world.district_2]
    for other in others:
        before = state(batch)
        verdict = approvals.can_decide(maker, fresh(batch))
        assert not verdict
        assert verdict.reason == "经办人不能审核自己经办的待遇"
        with pytest.raises(PermissionDenied, match="经办人不能审核自己经办的待遇"):
            approvals.approve(batch, acting_user=maker)
        with pytest.raises(PermissionDenied, match="经办人不能审核自己经办的待遇"):
            approvals.reject(batch, acting_user=maker, reason="我要改一下")
        assert state(batch) == before
        approvals.approve(batch, acting_user=other)
    assert fresh(batch).status == B.NOTICE


def test_one_person_decides_only_one_step_of_a_round(world: World, district: District) -> None:
    both = make_user("twohats", district.committee_a1, Role.ELDER_ASSISTANT, full_name="吴双岗")
    account_actions.add_membership(both, organization=district.street_office_a, role=Role.STREET_OFFICER)
    a1, _ = world.batches()
    approvals.approve(a1, acting_user=both)
    before = state(a1)
    with pytest.raises(PermissionDenied, match="同一人不能审核两个环节"):
        approvals.approve(a1, acting_user=both)
    assert state(a1) == before
    # A resubmission starts a new round: the same person may review the community step again.
    approvals.reject(a1, acting_user=world.p.street_officer, reason="李桂兰能力评估已过期，请核实")
    approvals.resubmit(a1, acting_user=world.p.district_officer)
    assert approvals.can_decide(both, fresh(a1))
    approvals.approve(a1, acting_user=both)
    assert fresh(a1).status == B.STREET


def test_each_step_is_decided_at_its_own_level(world: World) -> None:
    a1, _ = world.batches()
    p = world.p
    before = state(a1)
    with pytest.raises(PermissionDenied, match="该批次当前在社区审核环节"):
        approvals.approve(a1, acting_user=p.street_officer)
    with pytest.raises(PermissionDenied, match="该批次当前在社区审核环节"):
        approvals.approve(a1, acting_user=world.district_2)
    with pytest.raises(PermissionDenied, match="您没有审核该批次的权限"):
        approvals.approve(a1, acting_user=p.neighbour_worker)  # a worker of 柳岸社区
    with pytest.raises(PermissionDenied):
        approvals.approve(a1, acting_user=p.auditor)  # sees entitlements, approves nothing
    assert state(a1) == before
    approvals.approve(a1, acting_user=p.community_worker)
    with pytest.raises(PermissionDenied, match="该批次当前在街道审核环节"):
        approvals.approve(a1, acting_user=world.district_2)
    with pytest.raises(PermissionDenied, match="该批次当前在街道审核环节，须由溪口街道审核"):
        approvals.approve(a1, acting_user=p.community_worker)
    assert fresh(a1).status == B.STREET


def test_a_rejection_returns_the_batch_with_its_reason_and_a_resubmission_starts_over(world: World) -> None:
    a1, _ = world.batches()
    p = world.p
    approvals.approve(a1, acting_user=p.community_worker)
    before = state(a1)
    with pytest.raises(UserError, match="退回时请写明原因"):
        approvals.reject(a1, acting_user=p.street_officer, reason=" ")
    assert state(a1) == before
    returned = approvals.reject(a1, acting_user=p.street_officer, reason="李桂兰已迁出，请核实")
    assert (returned.status, returned.returned_reason) == (B.RETURNED, "李桂兰已迁出，请核实")
    with pytest.raises(UserError, match="不在审核环节"):
        approvals.approve(a1, acting_user=world.district_2)

    moved = a1.entitlements.get(person__name="李桂兰")
    before = state(a1)
    with pytest.raises(PermissionDenied):
        approvals.withdraw(moved, acting_user=p.neighbour_worker, reason="已迁出")
    with pytest.raises(UserError, match="撤回时请写明原因"):
        approvals.withdraw(moved, acting_user=p.district_officer, reason="")
    assert state(a1) == before
    approvals.withdraw(moved, acting_user=p.district_officer, reason="已迁出本区")
    moved.refresh_from_db()
    assert (moved.status, moved.end_reason) == (E.REJECTED, "撤回：已迁出本区")

    # The community worker (who accepts applications there) may resubmit: a new round begins.
    again = approvals.resubmit(a1, acting_user=p.community_worker, comment="已撤回迁出人员")
    assert (again.status, again.returned_reason) == (B.COMMUNITY, "")
    assert approvals.can_decide(p.community_worker, fresh(a1)).reason == "经办人不能审核自己经办的待遇"
    other = make_user("worker2", world.d.committee_a1, Role.ELDER_ASSISTANT, full_name="郑助老")
    approvals.approve(a1, acting_user=other)
    approvals.approve(a1, acting_user=p.street_officer)  # the rejecter reviews the corrected batch
    approvals.approve(a1, acting_user=world.district_2)
    assert list(a1.entitlements.order_by("pk").values_list("status", flat=True)) == [E.NOTICE, E.REJECTED]


def test_a_batch_with_every_row_withdrawn_is_not_resubmitted(world: World) -> None:
    a1, _ = world.batches()
    approvals.reject(a1, acting_user=world.p.community_worker, reason="名单有误")
    for row in a1.entitlements.all():
        approvals.withdraw(row, acting_user=world.p.district_officer, reason="名单有误")
    with pytest.raises(UserError, match="已全部撤回"):
        approvals.resubmit(a1, acting_user=world.p.district_officer)
    assert fresh(a1).status == B.RETURNED


# --- the notice --------------------------------------------------------------------------------


def test_the_notice_lasts_the_days_set_by_the_district(world: World) -> None:
    p = world.p
    with pytest.raises(PermissionDenied):
        approvals.update_settings(world.d.district, notice_days=5, acting_user=p.street_officer)
    for wrong in (0, 31):
        with pytest.raises(UserError, match="1 到 30 天"):
            approvals.update_settings(world.d.district, notice_days=wrong, acting_user=p.district_officer)
    assert not EligibilitySettings.objects.exists()
    approvals.update_settings(world.d.district, notice_days=10, acting_user=p.district_officer)
    a1, _ = world.batches()
    done = world.to_notice(a1)
    assert (done.notice_ends - done.notice_starts).days + 1 == 10


def test_an_objection_during_the_notice_blocks_activation_until_it_is_resolved(world: World) -> None:
    a1, _ = world.batches()
    world.to_notice(a1)
    p = world.p
    with pytest.raises(UserError, match="异议内容"):
        approvals.record_objection(a1, objector="邻居", contact="", content="不", acting_user=p.community_worker)
    objection = approvals.record_objection(a1, objector="匿名", contact="", acting_user=p.community_worker,
                                           content="王秀英的子女每月给付较多，不应享受补贴")
    with time_machine.travel(timezone.now() + dt.timedelta(days=8)):
        before = state(a1)
        with pytest.raises(UserError, match="尚有 1 条公示异议未处理"):
            approvals.activate(a1, acting_user=world.district_2)
        assert state(a1) == before
        assert approvals.activate_due_notices(timezone.localdate()) == 0
        with pytest.raises(PermissionDenied):
            approvals.resolve_objection(objection, resolution="dismissed", note="已核实", acting_user=p.community_worker)
        approvals.resolve_objection(objection, resolution="dismissed", note="经入户核实，赡养费不计入本补贴条件",
                                    acting_user=p.street_officer)
        done = approvals.activate(a1, acting_user=world.district_2)
    assert done.status == B.ACTIVE
    assert done.activated_by == world.district_2
    assert set(a1.entitlements.values_list("status", flat=True)) == {E.ACTIVE}


def test_an_upheld_objection_cancels_only_its_row(world: World) -> None:
    a1, _ = world.batches()
    world.to_notice(a1)
    p = world.p
    wang = a1.entitlements.get(person__name="王秀英")
    li = a1.entitlements.get(person__name="李桂兰")
    about_wang = approvals.record_objection(a1, objector="张先生", contact="13900001111", entitlement=wang,
                                            content="王秀英已长期居住在外地", acting_user=p.community_worker)
    unnamed = approvals.record_objection(a1, objector="匿名", contact="", content="名单中有人不符合条件",
                                         acting_user=p.street_officer)
    approvals.resolve_objection(about_wang, resolution="upheld", note="经核实已于2026年10月迁往外省",
                                acting_user=world.district_2)
    wang.refresh_from_db()
    li.refresh_from_db()
    assert (wang.status, wang.end_reason) == (E.REJECTED, "公示异议成立：经核实已于2026年10月迁往外省")
    assert li.status == E.NOTICE
    before = state(a1)
    with pytest.raises(UserError, match="须选择被取消的待遇"):
        approvals.resolve_objection(unnamed, resolution="upheld", note="属实", acting_user=p.street_officer)
    with pytest.raises(UserError, match="不在公示中"):
        approvals.resolve_objection(unnamed, resolution="upheld", note="属实", entitlement=wang,
                                    acting_user=p.street_officer)
    assert state(a1) == before
    approvals.resolve_objection(unnamed, resolution="dismissed", note="未指明具体人员，经核查名单无误",
                                acting_user=p.street_officer)
    with pytest.raises(UserError, match="已处理"):
        approvals.resolve_objection(unnamed, resolution="upheld", note="再议", entitlement=li,
                                    acting_user=p.street_officer)
    assert approvals.notice_rows(fresh(a1))[0].name == "李*兰"  # the cancelled row leaves the notice


def test_the_lists_count_each_row_and_each_open_objection_once(world: World) -> None:
    a1, _ = world.batches()
    world.to_notice(a1)
    for text in ("第一条异议内容", "第二条异议内容", "第三条异议内容"):
        approvals.record_objection(a1, objector="匿名", contact="", content=text, acting_user=world.p.community_worker)
    first = NoticeObjection.objects.order_by("pk").first()
    assert first is not None
    approvals.resolve_objection(first, resolution="dismissed", note="不属实", acting_user=world.district_2)
    listed = approvals.with_totals(ApprovalBatch.objects.filter(pk=a1.pk)).get()
    assert (listed.row_count, listed.amount_total, listed.open_objections) == (2, Decimal("1300"), 2)


def test_activation_waits_for_the_end_of_the_notice(world: World) -> None:
    a1, a2 = world.batches()
    done = world.to_notice(a1)
    last_day = done.notice_ends
    assert last_day is not None
    with time_machine.travel(dt.datetime.combine(last_day, dt.time(18), tzinfo=timezone.get_current_timezone())):
        with pytest.raises(UserError, match="起方可确认生效"):
            approvals.activate(a1, acting_user=world.district_2)
        with pytest.raises(UserError, match="只有公示中的批次"):
            approvals.activate(a2, acting_user=world.district_2)
        approvals.record_objection(a1, objector="邻居", contact="", content="最后一天提出的异议",
                                   acting_user=world.p.community_worker)
    assert fresh(a1).status == B.NOTICE
    with time_machine.travel(dt.datetime.combine(last_day + dt.timedelta(days=1), dt.time(9),
                                                 tzinfo=timezone.get_current_timezone())):
        with pytest.raises(UserError, match="公示期已于"):
            approvals.record_objection(a1, objector="邻居", contact="", content="公示期后提出的异议",
                                       acting_user=world.p.community_worker)
        with pytest.raises(PermissionDenied):
            approvals.activate(a1, acting_user=world.p.street_officer)
        objection = NoticeObjection.objects.get(batch=a1)
        approvals.resolve_objection(objection, resolution="dismissed", note="不属实", acting_user=world.district_2)
        approvals.activate(a1, acting_user=world.district_2)
    assert fresh(a1).status == B.ACTIVE


def test_the_daily_command_activates_what_is_due_and_nothing_twice(world: World) -> None:
    a1, a2 = world.batches()
    world.to_notice(a1)
    world.to_notice(a2)
    NoticeObjection.objects.create(batch=a2, objector="匿名", content="有异议", recorded_by=world.p.community_worker)
    ends = fresh(a1).notice_ends
    assert ends is not None
    out = io.StringIO()
    call_command("activate_notices", "--date", ends.isoformat(), stdout=out)
    assert "0 个批次" in out.getvalue()
    call_command("activate_notices", "--date", (ends + dt.timedelta(days=1)).isoformat(), stdout=out)
    assert "1 个批次" in out.getvalue()
    assert (fresh(a1).status, fresh(a2).status) == (B.ACTIVE, B.NOTICE)  # a2 waits for its objection
    assert fresh(a1).activated_by is None
    assert approvals.activate_due_notices(ends + dt.timedelta(days=1)) == 0
    event = AuditEvent.objects.filter(action=AuditAction.APPROVE_ENTITLEMENTS, detail__decision="activated").get()
    assert event.channel == "command"


@pytest.mark.django_db(transaction=True)
def test_two_workers_never_activate_the_same_batch(world: World) -> None:
    """A batch locked by one worker is skipped by the other (SELECT … FOR UPDATE SKIP LOCKED)."""
    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL")
    a1, a2 = world.batches()
    world.to_notice(a1)
    world.to_notice(a2)
    day = (fresh(a1).notice_ends or MONTH) + dt.timedelta(days=1)
    locked, release = threading.Event(), threading.Event()

    def other_worker() -> None:
        try:
            with transaction.atomic():
                ApprovalBatch.objects.select_for_update().get(pk=a1.pk)
                locked.set()
                release.wait(10)
        finally:
            connection.close()

    thread = threading.Thread(target=other_worker)
    thread.start()
    assert locked.wait(10)
    try:
        assert approvals.activate_due_notices(day) == 1
        assert (fresh(a1).status, fresh(a2).status) == (B.NOTICE, B.ACTIVE)
    finally:
        release.set()
        thread.join()
    assert approvals.activate_due_notices(day) == 1
    assert fresh(a1).status == B.ACTIVE


# --- pages ------------------------------------------------------------------------------------


def test_the_batch_page_shows_masked_rows_with_their_reasons_and_is_audited(world: World) -> None:
    a1, _ = world.batches()
    before = audits(AuditAction.VIEW_ENTITLEMENTS)
    response = client_for(world.p.community_worker).get(f"/eligibility/approvals/{a1.pk}/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "王*英" in html
    assert "王秀英" not in html
    assert full_id(world.people[0]) not in html
    assert world.people[0].id_number_masked in html
    assert "年龄 86岁 ≥ 80岁" in html  # the reason written by the run
    assert 'id="approve"' in html
    assert 'id="reject"' in html
    assert audits(AuditAction.VIEW_ENTITLEMENTS) == before + 1
    maker_page = client_for(world.p.district_officer).get(f"/eligibility/approvals/{a1.pk}/").content.decode()
    assert "经办人不能审核自己经办的待遇" in maker_page
    assert 'id="approve"' not in maker_page


def test_the_pages_take_a_batch_through_the_chain(world: World) -> None:
    a1, _ = world.batches()
    url = f"/eligibility/approvals/{a1.pk}"
    refused = client_for(world.p.district_officer).post(f"{url}/approve/", {"comment": ""})
    assert refused.status_code == 403
    assert "经办人不能审核自己经办的待遇" in refused.content.decode()
    worker = client_for(world.p.community_worker)
    queue = worker.get("/eligibility/approvals/").content.decode()
    assert f"#{a1.pk}" in queue
    assert worker.post(f"{url}/approve/", {"comment": "已核实"}).status_code == 302
    street = client_for(world.p.street_officer)
    empty = street.post(f"{url}/reject/", {"reason": ""})
    assert empty.status_code == 400
    assert "退回时请写明原因" in empty.content.decode()
    assert fresh(a1).status == B.STREET
    assert street.post(f"{url}/approve/", {}).status_code == 302
    assert client_for(world.district_2).post(f"{url}/approve/", {}).status_code == 302
    assert fresh(a1).status == B.NOTICE
    notices = client_for(world.district_2).get("/eligibility/approvals/notices/").content.decode()
    assert "公示中" in notices
    assert f"#{a1.pk}" in notices


def test_a_returned_batch_is_fixed_on_its_page(world: World) -> None:
    a1, _ = world.batches()
    approvals.reject(a1, acting_user=world.p.community_worker, reason="请核实李桂兰的居住地")
    maker = client_for(world.p.district_officer)
    queue = maker.get("/eligibility/approvals/").content.decode()
    assert "退回待修改" in queue
    assert "请核实李桂兰的居住地" in queue
    li = a1.entitlements.get(person__name="李桂兰")
    url = f"/eligibility/approvals/{a1.pk}"
    assert maker.post(f"{url}/rows/{li.pk}/withdraw/", {"reason": ""}).status_code == 400
    assert maker.post(f"{url}/rows/{li.pk}/withdraw/", {"reason": "已迁出"}).status_code == 302
    assert maker.post(f"{url}/resubmit/", {"comment": "已撤回"}).status_code == 302
    assert fresh(a1).status == B.COMMUNITY


def test_the_notice_page_and_its_export_are_masked_and_audited(world: World) -> None:
    a1, _ = world.batches()
    world.to_notice(a1)
    viewer = client_for(world.p.community_worker)
    before = audits(AuditAction.EXPORT_ENTITLEMENTS)
    page = viewer.get(f"/eligibility/approvals/{a1.pk}/notice/")
    html = page.content.decode()
    assert page.status_code == 200
    assert "青溪区2026年12月养老服务补贴享受对象公示" in html
    assert "@media print" not in html  # print styles live in the stylesheet
    for person in world.people:
        assert person.name not in html
        assert full_id(person) not in html
        assert person.masked_name in html
        assert person.id_number_masked in html
    assert "杏林社区居委会" in html  # where to raise an objection
    export = viewer.get(f"/eligibility/approvals/{a1.pk}/notice.xlsx")
    assert export.status_code == 200
    cells = [str(c) for row in load_workbook(io.BytesIO(export.content)).active.iter_rows(values_only=True)
             for c in row if c is not None]
    text = "\n".join(cells)
    for person in world.people:
        assert person.name not in text
        assert full_id(person) not in text
        assert person.masked_name in cells
        assert person.id_number_masked in cells
    assert audits(AuditAction.EXPORT_ENTITLEMENTS) == before + 2
    kinds = set(AuditEvent.objects.filter(action=AuditAction.EXPORT_ENTITLEMENTS).values_list("detail__kind",
                                                                                            flat=True))
    assert kinds == {"print", "xlsx"}


def test_a_batch_not_yet_on_notice_has_no_notice(world: World) -> None:
    a1, _ = world.batches()
    assert client_for(world.p.district_officer).get(f"/eligibility/approvals/{a1.pk}/notice/").status_code == 404


def test_objections_are_recorded_and_resolved_on_the_page(world: World) -> None:
    a1, _ = world.batches()
    world.to_notice(a1)
    wang = a1.entitlements.get(person__name="王秀英")
    worker = client_for(world.p.community_worker)
    url = f"/eligibility/approvals/{a1.pk}"
    assert worker.post(f"{url}/objections/", {"objector": "", "content": ""}).status_code == 400
    assert worker.post(f"{url}/objections/", {"objector": "张先生", "contact": "13900001111",
                                              "entitlement": wang.pk, "content": "王秀英已搬走"}).status_code == 302
    objection = NoticeObjection.objects.get()
    district = client_for(world.district_2)
    assert f"o{objection.pk}-note" in district.get(f"{url}/").content.decode()
    response = district.post(f"/eligibility/approvals/objections/{objection.pk}/resolve/",
                             {f"o{objection.pk}-resolution": "upheld", f"o{objection.pk}-note": "属实，已迁出"})
    assert response.status_code == 302
    wang.refresh_from_db()
    assert wang.end_reason == "公示异议成立：属实，已迁出"
    refused = district.post(f"{url}/activate/")
    assert refused.status_code == 400
    assert "起方可确认生效" in refused.content.decode()


def test_the_district_sets_the_notice_days_on_its_page(world: World) -> None:
    officer = client_for(world.p.district_officer)
    assert officer.post("/eligibility/approvals/settings/", {"notice_days": "40"}).status_code == 200
    assert not EligibilitySettings.objects.exists()
    assert officer.post("/eligibility/approvals/settings/", {"notice_days": "5"}).status_code == 302
    assert approvals.settings_for(world.d.district).notice_days == 5
    street = client_for(world.p.street_officer)
    assert street.get("/eligibility/approvals/settings/").status_code == 200  # read only
    assert street.post("/eligibility/approvals/settings/", {"notice_days": "9"}).status_code == 403
    assert approvals.settings_for(world.d.district).notice_days == 5


# --- scope ------------------------------------------------------------------------------------


def api(user: User) -> Client:
    key, _ = account_actions.issue_api_token(user)
    return Client(headers={"Authorization": f"Bearer {key}"})


def test_a_worker_of_another_community_finds_nothing(world: World) -> None:
    a1, a2 = world.batches()
    p = world.p
    assert client_for(p.neighbour_worker).get(f"/eligibility/approvals/{a1.pk}/").status_code == 404
    assert client_for(p.neighbour_worker).get(f"/eligibility/approvals/{a2.pk}/").status_code == 200
    assert client_for(p.neighbour_worker).post(f"/eligibility/approvals/{a1.pk}/approve/").status_code == 404
    assert api(p.neighbour_worker).get(f"/api/v1/approvals/batches/{a1.pk}").status_code == 404
    with pytest.raises(Http404):
        access.access_batch(p.neighbour_worker, a1.pk)
    assert set(access.visible_batches(p.neighbour_worker)) == {a2}
    assert set(access.visible_batches(p.street_officer)) == {a1, a2}
    assert client_for(p.caregiver).get("/eligibility/approvals/").status_code == 403
    assert client_for(p.outsider).get(f"/eligibility/approvals/{a1.pk}/").status_code == 404
    assert fresh(a1).status == B.COMMUNITY


def test_the_api_takes_a_batch_from_approval_to_activation(world: World) -> None:
    a1, _ = world.batches()
    base = f"/api/v1/approvals/batches/{a1.pk}"
    worker = api(world.p.community_worker)
    mine = worker.get("/api/v1/approvals/batches?mine=decide").json()
    assert [b["id"] for b in mine] == [a1.pk]
    detail = worker.get(base).json()
    assert {r["person_name"] for r in detail["entitlements"]} == {"王*英", "李*兰"}
    assert all("*" in r["id_number"] for r in detail["entitlements"])
    assert detail["entitlements"][0]["reasons"] == ["年龄 86岁 ≥ 80岁"]
    refused = api(world.p.district_officer).post(f"{base}/approve", {"comment": ""}, content_type="application/json")
    assert refused.status_code == 403
    assert refused.json()["detail"] == "经办人不能审核自己经办的待遇"
    assert worker.post(f"{base}/approve", {"comment": "属实"}, content_type="application/json").json()["status"] \
        == "street"
    street = api(world.p.street_officer)
    bad = street.post(f"{base}/reject", {"reason": ""}, content_type="application/json")
    assert bad.status_code == 400
    assert bad.json()["field"] == "reason"
    assert street.post(f"{base}/reject", {"reason": "请核实"}, content_type="application/json").json()["status"] \
        == "returned"
    maker = api(world.p.district_officer)
    li = a1.entitlements.get(person__name="李桂兰")
    withdrawn = maker.post(f"{base}/rows/{li.pk}/withdraw", {"reason": "已迁出"}, content_type="application/json")
    assert withdrawn.status_code == 200
    assert maker.post(f"{base}/resubmit", {}, content_type="application/json").json()["status"] == "community"
    other = make_user("worker2", world.d.committee_a1, Role.ELDER_ASSISTANT)
    for user in (other, world.p.street_officer, world.district_2):
        assert api(user).post(f"{base}/approve", {}, content_type="application/json").status_code == 200
    objection = worker.post(f"{base}/objections", {"objector": "匿名", "content": "王秀英不符合条件"},
                            content_type="application/json")
    assert objection.status_code == 201
    district = api(world.district_2)
    resolved = district.post(f"/api/v1/approvals/objections/{objection.json()['id']}/resolve",
                             {"resolution": "dismissed", "note": "经核实符合条件"}, content_type="application/json")
    assert resolved.json()["resolution"] == "dismissed"
    export = worker.get(f"{base}/notice.xlsx")
    assert export.status_code == 200
    assert export["Content-Type"].startswith("application/vnd.openxmlformats")
    early = district.post(f"{base}/activate")
    assert early.status_code == 400
    with time_machine.travel(timezone.now() + dt.timedelta(days=7)):
        assert district.post(f"{base}/activate").json()["status"] == "active"
    assert api(world.p.district_officer).get("/api/v1/approvals/settings?region_code=330199").json() == \
        {"notice_days": 7}
    changed = api(world.p.district_officer).put("/api/v1/approvals/settings?region_code=330199",
                                                {"notice_days": 15}, content_type="application/json")
    assert changed.json() == {"notice_days": 15}
    assert api(world.p.street_officer).put("/api/v1/approvals/settings?region_code=330199", {"notice_days": 3},
                                           content_type="application/json").status_code == 403
