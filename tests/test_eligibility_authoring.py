"""Writing policies without a programmer, read like the seed documents: the district's civil-affairs
bureau writes every local scheme of seed 001_47f0e4c388d9ed24.txt (居家养老服务补贴 (一)–(四) "就高不就低，
不重复计算"; the 居家养老服务券 for 75岁以上 独居、空巢 elders who cannot fully care for themselves; 无偿/低偿
服务 tiers; 家庭养老床位 建设补贴 ≤ 5000元, 运营补贴 250元/月, 护理补贴 1200/1000元/月 "已经享受残疾人护理补贴的
老年人，不再重复享受") and of seed 003_b40796f4d6b594f8.txt ("医疗开支后实际收入低于3000元/月") as data, through
the pages and the API. Every bad input is refused with a Chinese message naming what is wrong, and
nothing is stored."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from sanshe.accounts.models import Organization, OrganizationKind, Region, RegionLevel, Role, User
from sanshe.core.models import AuditAction, AuditEvent, Channel
from sanshe.eligibility import authoring
from sanshe.eligibility.models import Fund, Policy, PolicyStatus, PolicyVersion
from sanshe.eligibility.queries import fields
from tests.factories import PASSWORD, District, Personas, client_for, make_user

pytestmark = pytest.mark.django_db

AGED_60 = {"field": "age", "op": "gte", "value": 60}
AGED_80 = {"field": "age", "op": "gte", "value": 80}
CANNOT_CARE = {"field": "capability_level", "op": "gte", "value": 2}
DIBAO = {"field": "economic_status", "op": "eq", "value": "dibao"}
FROM = dt.date(2027, 1, 1)


# --- helpers ------------------------------------------------------------------------------------------


def api_client(user: User) -> Client:
    response = Client().post("/api/v1/auth/token", {"username": user.username, "password": PASSWORD},
                             content_type="application/json")
    assert response.status_code == 200, response.content
    return Client(headers={"Authorization": f"Bearer {response.json()['token']}"})


def send(c: Client, method: str, url: str, data: Any = None) -> Any:
    return getattr(c, method)(url, json.dumps(data, default=str) if data is not None else None,
                              content_type="application/json")


def stored() -> tuple[Any, ...]:
    """Everything a refused change must leave as it was."""
    return (
        list(Fund.objects.order_by("pk").values_list("pk", "district_id", "code", "name")),
        list(Policy.objects.order_by("pk").values_list(
            "pk", "code", "name", "legal_basis", "fund_id", "benefit_kind", "exclusivity_group", "excludes",
            "proactive", "status")),
        list(PolicyVersion.objects.order_by("pk").values_list(
            "pk", "policy_id", "number", "effective_from", "effective_to", "amount", "parameters", "condition")),
        AuditEvent.objects.filter(action=AuditAction.MANAGE_POLICY).count(),
    )


@pytest.fixture
def welfare(district: District, personas: Personas) -> Fund:
    return authoring.create_fund(district.district, code="welfare", name="福利彩票公益金",
                                 acting_user=personas.district_officer)


def make_policy(d: District, by: User, fund: Fund, code: str, *, kind: str = "monthly_quota",
                group: str = "", excludes: tuple[str, ...] = (), name: str = "") -> Policy:
    values = authoring.PolicyValues(name=name or code, legal_basis="青民〔2026〕12号", fund=fund, benefit_kind=kind,
                                    exclusivity_group=group, excludes=excludes)
    return authoring.create_policy(d.district, code=code, values=values, acting_user=by)


@pytest.fixture
def aged_80(district: District, personas: Personas, welfare: Fund) -> Policy:
    """居家养老服务补贴（四）80岁以上 500元/月, in force from 2027-01-01."""
    p = make_policy(district, personas.district_officer, welfare, "aged_80", group="home_care_subsidy",
                    name="居家养老服务补贴（四）80岁以上")
    authoring.add_version(p, effective_from=FROM, condition=AGED_80, amount=Decimal("500"),
                          acting_user=personas.district_officer)
    return p


@pytest.fixture
def elsewhere(db: None) -> dict[str, Any]:
    """Another district with its own civil-affairs officer, fund and policy."""
    region = Region.objects.create(code="330299000000", name="云岭区", level=RegionLevel.DISTRICT)
    street = Region.objects.create(code="330299001000", name="云岭街道", level=RegionLevel.STREET, parent=region)
    bureau = Organization.objects.create(name="云岭区民政局", kind=OrganizationKind.CIVIL_AFFAIRS_BUREAU, region=region)
    officer = make_user("yunling", bureau, Role.DISTRICT_OFFICER, full_name="周云岭")
    fund = authoring.create_fund(region, code="yl_welfare", name="云岭区福彩公益金", acting_user=officer)
    values = authoring.PolicyValues(name="云岭区高龄补贴", legal_basis="云民〔2026〕1号", fund=fund,
                                    benefit_kind="monthly_subsidy")
    policy = authoring.create_policy(region, code="yl_aged", values=values, acting_user=officer)
    return {"region": region, "street": street, "officer": officer, "fund": fund, "policy": policy}


# --- every scheme of the seed documents, through the API ----------------------------------------------------

SEED_SCHEMES: list[dict[str, Any]] = [
    # seed 001 居家养老服务补贴 (一)–(四), one exclusivity group: the highest only.
    {"code": "home_care_dibao_dependent", "name": "居家养老服务补贴（一）低保且生活不能自理", "kind": "monthly_quota",
     "group": "home_care_subsidy", "amount": "1000", "condition": {"all": [AGED_60, DIBAO, CANNOT_CARE]},
     "text": "年龄 ≥ 60 且 经济状况 = 低保 且 能力等级（有效评估） ≥ 2", "benefit": "每月 1000.00 元"},
    {"code": "home_care_dependent", "name": "居家养老服务补贴（二）非低保生活不能自理", "kind": "monthly_quota",
     "group": "home_care_subsidy", "amount": "800", "condition": {"all": [AGED_60, {"not": DIBAO}, CANNOT_CARE]},
     "text": "年龄 ≥ 60 且 并非（经济状况 = 低保）且 能力等级（有效评估） ≥ 2", "benefit": "每月 800.00 元"},
    {"code": "home_care_assisted", "name": "居家养老服务补贴（三）三无、低保、重点优抚", "kind": "monthly_quota",
     "group": "home_care_subsidy", "amount": "600",
     "condition": {"all": [AGED_60, {"any": [{"field": "economic_status", "op": "in", "value": ["three_no", "dibao"]},
                                             {"field": "entitled_group", "op": "is_true"}]}]},
     "text": "年龄 ≥ 60 且（经济状况 属于 三无老人、低保 或 重点优抚对象：是）", "benefit": "每月 600.00 元"},
    {"code": "home_care_aged_80", "name": "居家养老服务补贴（四）80岁以上", "kind": "monthly_quota",
     "group": "home_care_subsidy", "amount": "500", "condition": AGED_80, "text": "年龄 ≥ 80",
     "benefit": "每月 500.00 元"},
    # seed 001 居家养老服务券: 75岁以上、不能完全自理、经济比较困难的独居、空巢老人.
    {"code": "service_voucher", "name": "居家养老服务券", "kind": "annual_voucher", "amount": "1200",
     "condition": {"all": [{"field": "age", "op": "gte", "value": 75},
                           {"field": "capability_level", "op": "gte", "value": 1},
                           {"field": "economic_status", "op": "in", "value": ["low_income", "dibao_edge", "dibao"]},
                           {"any": [{"field": "living_arrangement", "op": "eq", "value": "alone"},
                                    {"field": "empty_nest", "op": "is_true"}]}]},
     "text": "年龄 ≥ 75 且 能力等级（有效评估） ≥ 1 且 经济状况 属于 低收入家庭、低保边缘、低保 且"
             "（居住情况 = 独居 或 空巢：是）", "benefit": "每年服务券 1200.00 元"},
    # seed 001 无偿服务 for 70岁以上"三无"老人, 低偿服务 for 80岁以上空巢老人.
    {"code": "free_service", "name": "无偿服务对象", "kind": "co_payment_tier", "amount": "0",
     "parameters": {"tier": "free"}, "group": "service_tier",
     "condition": {"all": [{"field": "age", "op": "gte", "value": 70},
                           {"field": "economic_status", "op": "eq", "value": "three_no"}]},
     "text": "年龄 ≥ 70 且 经济状况 = 三无老人", "benefit": "免费"},
    {"code": "low_cost_service", "name": "低偿服务对象", "kind": "co_payment_tier", "amount": "0",
     "parameters": {"tier": "low_cost", "co_payment_rate": "0.3"}, "group": "service_tier",
     "condition": {"all": [AGED_80, {"field": "empty_nest", "op": "is_true"}]},
     "text": "年龄 ≥ 80 且 空巢：是", "benefit": "低偿（自付 30%）"},
    {"code": "meal_subsidy", "name": "老年助餐补贴", "kind": "per_service", "amount": "3",
     "parameters": {"unit": "meal", "monthly_cap": 30}, "condition": AGED_80,
     "text": "年龄 ≥ 80", "benefit": "每餐补贴 3.00 元（每月至多 30 餐）"},
    # seed 001 家庭养老床位: 本区户籍政府兜底保障对象、轻度及以上失能.
    {"code": "bed_building", "name": "家庭养老床位建设补贴", "kind": "one_off_grant", "amount": "5000",
     "condition": {"all": [{"field": "registered_region", "op": "within", "value": "330199000000"},
                           {"field": "economic_status", "op": "in", "value": ["tekun", "dibao", "low_income"]},
                           {"field": "capability_level", "op": "gte", "value": 1}]},
     "text": "户籍地 在 青溪区 且 经济状况 属于 特困供养、低保、低收入家庭 且 能力等级（有效评估） ≥ 1",
     "benefit": "一次性补助，至多 5000.00 元"},
    {"code": "bed_operation", "name": "家庭养老床位运营补贴", "kind": "monthly_subsidy", "amount": "250",
     "condition": {"all": [{"field": "registered_region", "op": "within", "value": "330199000000"},
                           {"field": "capability_level", "op": "gte", "value": 1}]},
     "text": "户籍地 在 青溪区 且 能力等级（有效评估） ≥ 1", "benefit": "每月 250.00 元"},
    {"code": "disability_nursing", "name": "困难残疾人护理补贴", "kind": "monthly_subsidy", "amount": "200",
     "condition": {"field": "disability_grade", "op": "between", "value": [1, 2]},
     "text": "残疾等级 介于 1–2", "benefit": "每月 200.00 元"},
    {"code": "bed_nursing_total", "name": "家庭养老床位护理补贴（全失能）", "kind": "monthly_subsidy", "amount": "1200",
     "group": "bed_nursing", "excludes": ["disability_nursing"],
     "condition": {"all": [{"field": "economic_status", "op": "in", "value": ["tekun", "dibao", "low_income"]},
                           {"field": "capability_level", "op": "eq", "value": 4}]},
     "text": "经济状况 属于 特困供养、低保、低收入家庭 且 能力等级（有效评估） = 4", "benefit": "每月 1200.00 元"},
    {"code": "bed_nursing_partial", "name": "家庭养老床位护理补贴（半失能）", "kind": "monthly_subsidy",
     "amount": "1000", "group": "bed_nursing", "excludes": ["disability_nursing"],
     "condition": {"all": [{"field": "economic_status", "op": "in", "value": ["tekun", "dibao", "low_income"]},
                           {"field": "capability_level", "op": "between", "value": [1, 3]}]},
     "text": "经济状况 属于 特困供养、低保、低收入家庭 且 能力等级（有效评估） 介于 1–3", "benefit": "每月 1000.00 元"},
    # seed 003: 高龄老人与重残子女同住、医疗开支后实际收入低于3000元/月.
    {"code": "low_net_income", "name": "医疗开支后低收入老人居家养老服务", "kind": "monthly_quota", "amount": "300",
     "proactive": False,
     "condition": {"all": [AGED_60, {"any": [
         {"field": "income_after_medical", "op": "lt", "value": 3000},
         {"all": [AGED_80, {"field": "lives_with_disabled_child", "op": "is_true"}]}]}]},
     "text": "年龄 ≥ 60 且（扣除医疗支出后的月收入 < 3000元 或（年龄 ≥ 80 且 仅与重残子女同住：是））",
     "benefit": "每月 300.00 元"},
]


def test_every_scheme_of_the_seed_documents_is_written_through_the_api(district: District,
                                                                         personas: Personas) -> None:
    c = api_client(personas.district_officer)
    fund = send(c, "post", "/api/v1/funds", {"code": "welfare", "name": "福利彩票公益金"})
    assert fund.status_code == 201, fund.content
    for scheme in SEED_SCHEMES:
        created = send(c, "post", "/api/v1/policies", {
            "code": scheme["code"], "name": scheme["name"], "legal_basis": "青民〔2026〕12号",
            "fund_id": fund.json()["id"], "benefit_kind": scheme["kind"],
            "exclusivity_group": scheme.get("group", ""), "excludes": scheme.get("excludes", []),
            "proactive": scheme.get("proactive", True)})
        assert created.status_code == 201, created.content
        policy_id = created.json()["id"]
        version = send(c, "post", f"/api/v1/policies/{policy_id}/versions", {
            "effective_from": "2026-01-01", "amount": scheme["amount"], "condition": scheme["condition"],
            "parameters": scheme.get("parameters", {})})
        assert version.status_code == 201, version.content
        assert version.json()["condition_text"] == scheme["text"]
        assert version.json()["benefit_text"] == scheme["benefit"]
        active = send(c, "post", f"/api/v1/policies/{policy_id}/status", {"status": "active"})
        assert active.status_code == 200, active.content
        assert active.json()["current_version"]["number"] == 1
    policies = c.get("/api/v1/policies").json()
    assert {p["code"] for p in policies} == {s["code"] for s in SEED_SCHEMES}
    assert all(p["status"] == "active" for p in policies)
    by_code = {p["code"]: p for p in policies}
    assert by_code["bed_nursing_total"]["excludes"] == ["disability_nursing"]
    assert by_code["low_net_income"]["proactive"] is False
    assert by_code["low_cost_service"]["current_version"]["parameters"] == {"tier": "low_cost",
                                                                              "co_payment_rate": "0.3"}
    # Every change is in the audit log, through the API channel.
    events = AuditEvent.objects.filter(action=AuditAction.MANAGE_POLICY, actor=personas.district_officer)
    assert events.count() == 1 + 3 * len(SEED_SCHEMES)
    assert set(events.values_list("channel", flat=True)) == {Channel.API}


# --- the condition in words and the builder's fields ---------------------------------------------------------

DESCRIPTIONS = [
    ({"all": [AGED_80, {"any": [{"field": "economic_status", "op": "in", "value": ["dibao", "tekun"]},
                                {"field": "entitled_group", "op": "is_true"}]}]},
     "年龄 ≥ 80 且（经济状况 属于 低保、特困供养 或 重点优抚对象：是）"),
    ({"all": [AGED_80, {"field": "economic_status", "op": "in", "value": ["dibao"]}]}, "年龄 ≥ 80 且 经济状况 属于 低保"),
    ({"not": {"any": [DIBAO, {"field": "family_doctor_signed", "op": "is_false"}]}},
     "并非（经济状况 = 低保 或 已签约家庭医生：否）"),
    ({"all": [{"field": "residence_region", "op": "not_within", "value": "330199001001"}]}, "居住地 不在 杏林社区"),
    ({"field": "monthly_income", "op": "between", "value": [0, 2500]}, "月收入 介于 0元–2500元"),
]


@pytest.mark.parametrize(("tree", "text"), DESCRIPTIONS)
def test_a_condition_reads_as_chinese_text(district: District, tree: dict[str, Any], text: str) -> None:
    assert authoring.describe_condition(tree) == text


def test_the_builder_and_the_api_offer_every_field_with_its_operators_in_chinese(
    district: District, personas: Personas
) -> None:
    specs = authoring.field_specs()
    assert [s["key"] for s in specs] == list(fields())
    age = next(s for s in specs if s["key"] == "age")
    assert {"op": "gte", "label": "≥", "text": "大于或等于"} in age["ops"]
    assert age["unit"] == "岁"
    economic = next(s for s in specs if s["key"] == "economic_status")
    assert {"value": "dibao", "label": "低保"} in economic["choices"]
    assert api_client(personas.community_worker).get("/api/v1/policies/fields").json() == specs


# --- refusals ---------------------------------------------------------------------------------------------

BAD_CONDITIONS = [
    ("unknown field", {"all": [AGED_60, {"field": "height", "op": "gte", "value": 170}]},
     "没有“height”这一条件项（位置：第 2 项）", "condition.all.1.field"),
    ("wrong value type", {"all": [{"field": "age", "op": "gte", "value": "八十"}]},
     "年龄的比较值“八十”应为数字（位置：第 1 项）", "condition.all.0.value"),
    ("empty number", {"all": [AGED_60, {"any": [DIBAO, {"field": "age", "op": "gte", "value": ""}]}]},
     "请填写年龄的比较值（位置：第 2 项 › 第 2 项）", "condition.all.1.any.1.value"),
    ("between low above high", {"field": "age", "op": "between", "value": [90, 80]},
     "年龄的下限 90 大于上限 80", "condition.value"),
    ("unknown choice", {"all": [{"field": "economic_status", "op": "in", "value": ["dibao", "rich"]}]},
     "经济状况没有“rich”这一取值（位置：第 1 项）", "condition.all.0.value"),
    ("operator of another kind", {"field": "sex", "op": "gte", "value": "2"},
     "性别不能用“gte”比较（可用：=、≠、属于、不属于）", "condition.op"),
    ("malformed region code", {"field": "residence_region", "op": "within", "value": "3301"},
     "居住地应填 6、9 或 12 位区划代码", "condition.value"),
    ("region of another district", {"not": {"field": "residence_region", "op": "within", "value": "330299001000"}},
     "居住地的区划代码“330299001000”不是本区的街道或社区（位置：第 1 项）", "condition.not.value"),
    ("empty group", {"all": []}, "“全部满足/任一满足”下至少要有一个条件", "condition"),
    ("too deep", {"all": [{"all": [{"all": [{"all": [{"all": [{"all": [{"all": [{"all": [{"all": [AGED_80]}]}]}]}]}]}]}]}]},
     "条件嵌套过深（最多 8 层）", None),
]


@pytest.mark.parametrize(("case", "condition", "message", "field"), BAD_CONDITIONS, ids=[c[0] for c in BAD_CONDITIONS])
def test_a_bad_condition_is_refused_naming_the_node_and_nothing_is_stored(
    district: District, personas: Personas, aged_80: Policy, elsewhere: dict[str, Any], case: str,
    condition: dict[str, Any], message: str, field: str | None,
) -> None:
    before = stored()
    response = send(api_client(personas.district_officer), "post", f"/api/v1/policies/{aged_80.pk}/versions",
                    {"effective_from": "2027-07-01", "amount": "550", "condition": condition})
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    if field is not None:
        assert response.json()["field"] == field
    assert stored() == before


BAD_VERSIONS = [
    ("the same effective date", "monthly_quota", {"effective_from": "2027-01-01"}, "新版本的生效日期须晚于它"),
    ("an earlier effective date", "monthly_quota", {"effective_from": "2026-10-01"},
     "已有 2027-01-01 生效的版本，新版本的生效日期须晚于它"),
    ("a negative amount", "monthly_quota", {"amount": "-5"}, "金额不能为负数"),
    ("an amount to the tenth of a fen", "monthly_quota", {"amount": "500.005"}, "金额最多保留两位小数（精确到分）"),
    ("a zero monthly amount", "monthly_quota", {"amount": "0"}, "金额应大于 0"),
    ("parameters on a kind that takes none", "monthly_quota", {"parameters": {"unit": "meal"}},
     "该待遇类型没有参数“unit”"),
    ("per service without a unit", "per_service", {"parameters": {"monthly_cap": 30}},
     "按次补贴须选择计量单位：每餐、每次或每小时"),
    ("per service with a fractional cap", "per_service", {"parameters": {"unit": "meal", "monthly_cap": "2.5"}},
     "每月补贴次数上限应为正整数"),
    ("low cost without a rate", "co_payment_tier", {"amount": "0", "parameters": {"tier": "low_cost"}},
     "低偿服务须填写自付比例，如 0.3 表示自付三成"),
    ("a rate of one", "co_payment_tier", {"amount": "0", "parameters": {"tier": "low_cost", "co_payment_rate": "1"}},
     "低偿服务的自付比例应大于 0 且小于 1"),
    ("a rate above one", "co_payment_tier",
     {"amount": "0", "parameters": {"tier": "low_cost", "co_payment_rate": "1.5"}}, "自付比例应大于 0 且小于 1"),
    ("a tier with an amount", "co_payment_tier", {"amount": "20", "parameters": {"tier": "free"}},
     "服务收费档次不发放金额，金额应填 0"),
    ("an unknown proration", "monthly_quota", {"proration": "weekly"}, "请选择月中变化的折算规则"),
]


@pytest.mark.parametrize(("case", "kind", "change", "message"), BAD_VERSIONS, ids=[c[0] for c in BAD_VERSIONS])
def test_a_bad_version_is_refused_in_chinese_and_nothing_is_stored(
    district: District, personas: Personas, welfare: Fund, case: str, kind: str, change: dict[str, Any], message: str,
) -> None:
    by = personas.district_officer
    policy = make_policy(district, by, welfare, "scheme", kind=kind)
    first = {"monthly_quota": (Decimal("500"), {}), "per_service": (Decimal("3"), {"unit": "meal"}),
             "co_payment_tier": (Decimal("0"), {"tier": "free"})}[kind]
    authoring.add_version(policy, effective_from=FROM, condition=AGED_80, amount=first[0], parameters=first[1],
                          acting_user=by)
    before = stored()
    payload = {"effective_from": "2027-07-01", "amount": "550", "condition": AGED_80, **change}
    response = send(api_client(by), "post", f"/api/v1/policies/{policy.pk}/versions", payload)
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    assert stored() == before


def policy_payload(fund: Fund, **change: Any) -> dict[str, Any]:
    return {"code": "aged_90", "name": "90岁以上高龄补贴", "legal_basis": "青民〔2026〕12号", "fund_id": fund.pk,
            "benefit_kind": "monthly_subsidy", "exclusivity_group": "", "excludes": [], **change}


BAD_POLICIES = [
    ("a duplicate code", {"code": "aged_80"}, "本区已有编码为“aged_80”的政策", "code"),
    ("a code with capitals and dashes", {"code": "Aged-90"},
     "政策编码只能由小写英文字母、数字和下划线组成", "code"),
    ("no name", {"name": "  "}, "请填写政策名称", "name"),
    ("no legal basis", {"legal_basis": ""}, "请填写政策依据（文号）", "legal_basis"),
    ("an unknown benefit kind", {"benefit_kind": "cash_gift"}, "请选择待遇类型", "benefit_kind"),
    ("excluding an unknown policy", {"excludes": ["aged_80", "no_such_policy"]},
     "“不与以下待遇同时享受”中的政策编码“no_such_policy”在本区不存在", "excludes"),
    ("excluding a policy of another district", {"excludes": ["yl_aged"]},
     "政策编码“yl_aged”在本区不存在", "excludes"),
    ("excluding itself", {"excludes": ["aged_90"]}, "“不与以下待遇同时享受”不能包括本政策自身", "excludes"),
    ("a too long exclusivity group", {"exclusivity_group": "g" * 41}, "互斥组最长 40 个字符", "exclusivity_group"),
]


@pytest.mark.parametrize(("case", "change", "message", "field"), BAD_POLICIES, ids=[c[0] for c in BAD_POLICIES])
def test_a_bad_policy_is_refused_in_chinese_and_nothing_is_stored(
    district: District, personas: Personas, aged_80: Policy, welfare: Fund, elsewhere: dict[str, Any], case: str,
    change: dict[str, Any], message: str, field: str,
) -> None:
    before = stored()
    response = send(api_client(personas.district_officer), "post", "/api/v1/policies",
                    policy_payload(welfare, **change))
    assert response.status_code == 400, response.content
    assert message in response.json()["detail"]
    assert response.json()["field"] == field
    assert stored() == before


def test_a_fund_of_another_district_is_refused(district: District, personas: Personas, welfare: Fund,
                                               elsewhere: dict[str, Any]) -> None:
    c = api_client(personas.district_officer)
    before = stored()
    response = send(c, "post", "/api/v1/policies", policy_payload(elsewhere["fund"]))
    assert (response.status_code, response.json()["detail"]) == (400, "资金来源须为本区的资金")
    response = send(c, "post", "/api/v1/policies", policy_payload(welfare, fund_id=999_999))
    assert (response.status_code, response.json()["detail"]) == (400, "没有编号为 999999 的资金")
    assert stored() == before


BAD_FUNDS = [
    ({"code": "welfare", "name": "另一笔福彩公益金"}, "本区已有编码为“welfare”的资金"),
    ({"code": "福彩", "name": "福彩公益金"}, "资金编码只能由小写英文字母、数字和下划线组成"),
    ({"code": "central_pilot", "name": ""}, "请填写资金名称"),
]


@pytest.mark.parametrize(("payload", "message"), BAD_FUNDS)
def test_a_bad_fund_is_refused(district: District, personas: Personas, welfare: Fund, payload: dict[str, str],
                               message: str) -> None:
    before = stored()
    response = send(api_client(personas.district_officer), "post", "/api/v1/funds", payload)
    assert response.status_code == 400
    assert message in response.json()["detail"]
    assert stored() == before


def test_the_benefit_kind_is_fixed_once_a_version_exists(district: District, personas: Personas,
                                                         aged_80: Policy) -> None:
    c = api_client(personas.district_officer)
    before = stored()
    response = send(c, "patch", f"/api/v1/policies/{aged_80.pk}", {"benefit_kind": "monthly_subsidy"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith("已有版本的政策不能更改待遇类型")
    response = send(c, "patch", f"/api/v1/policies/{aged_80.pk}", {"excludes": ["aged_80"]})
    assert response.json()["detail"] == "“不与以下待遇同时享受”不能包括本政策自身"
    assert stored() == before
    changed = send(c, "patch", f"/api/v1/policies/{aged_80.pk}", {"name": "高龄补贴（80岁以上）", "proactive": False})
    assert changed.status_code == 200
    fresh = Policy.objects.get(pk=aged_80.pk)
    assert (fresh.name, fresh.proactive, fresh.code, fresh.benefit_kind) == (
        "高龄补贴（80岁以上）", False, "aged_80", "monthly_quota")
    event = AuditEvent.objects.filter(action=AuditAction.MANAGE_POLICY).order_by("-pk").first()
    assert event is not None
    assert event.detail["changed"] == {"name": ["居家养老服务补贴（四）80岁以上", "高龄补贴（80岁以上）"],
                                       "proactive": [True, False]}


def test_a_draft_is_put_in_force_only_with_a_version_and_a_retired_policy_stays_retired(
    district: District, personas: Personas, welfare: Fund
) -> None:
    by = personas.district_officer
    c = api_client(by)
    policy = make_policy(district, by, welfare, "aged_90")
    steps = [
        ("active", 400, "请先添加至少一个版本（条件和金额），再发布施行"),
        ("retired", 400, "草稿政策尚未施行，不能废止；只有施行中的政策可以废止"),
    ]
    for status, code, message in steps:
        before = stored()
        response = send(c, "post", f"/api/v1/policies/{policy.pk}/status", {"status": status})
        assert (response.status_code, response.json()["detail"]) == (code, message)
        assert stored() == before
    authoring.add_version(policy, effective_from=FROM, condition={"field": "age", "op": "gte", "value": 90},
                          amount=Decimal("100"), acting_user=by)
    assert send(c, "post", f"/api/v1/policies/{policy.pk}/status", {"status": "active"}).json()["status"] == "active"
    assert send(c, "post", f"/api/v1/policies/{policy.pk}/status", {"status": "retired"}).json()["status"] == "retired"
    before = stored()
    again = send(c, "post", f"/api/v1/policies/{policy.pk}/status", {"status": "active"})
    assert again.json()["detail"] == "已废止的政策不能恢复施行；如需继续，请新建政策"
    late = send(c, "post", f"/api/v1/policies/{policy.pk}/versions",
                {"effective_from": "2027-09-01", "amount": "120", "condition": AGED_80})
    assert late.json()["detail"] == "已废止的政策不能再增加版本"
    edit = send(c, "patch", f"/api/v1/policies/{policy.pk}", {"name": "改名"})
    assert edit.json()["detail"] == "已废止的政策不能修改"
    assert stored() == before


def test_a_new_version_ends_the_previous_one_the_day_before(district: District, personas: Personas,
                                                            aged_80: Policy) -> None:
    c = api_client(personas.district_officer)
    response = send(c, "post", f"/api/v1/policies/{aged_80.pk}/versions", {
        "effective_from": "2027-07-01", "amount": "550", "condition": AGED_80, "proration": "daily",
        "note": "按青民〔2027〕3号文提高标准"})
    assert response.status_code == 201
    assert response.json()["number"] == 2
    versions = c.get(f"/api/v1/policies/{aged_80.pk}").json()["versions"]
    assert [(v["number"], v["effective_from"], v["effective_to"]) for v in versions] == [
        (2, "2027-07-01", None), (1, "2027-01-01", "2027-06-30")]
    assert versions[0]["proration"] == "daily"
    assert versions[0]["created_by"] == "王民政"


# --- access ---------------------------------------------------------------------------------------------


def test_street_and_community_staff_read_the_district_policies_but_cannot_write(
    district: District, personas: Personas, aged_80: Policy, welfare: Fund
) -> None:
    before = stored()
    for user in (personas.street_officer, personas.community_worker):
        c = client_for(user)
        assert "居家养老服务补贴（四）80岁以上" in c.get("/eligibility/policies/").content.decode()
        page = c.get(f"/eligibility/policies/{aged_80.pk}/").content.decode()
        assert "年龄 ≥ 80" in page
        assert "新增版本" not in page
        assert "发布施行" not in page
        assert c.get("/eligibility/policies/new/").status_code == 403
        assert c.post("/eligibility/policies/new/", {"code": "x", "name": "x"}).status_code == 403
        assert c.get(f"/eligibility/policies/{aged_80.pk}/edit/").status_code == 403
        assert c.post(f"/eligibility/policies/{aged_80.pk}/versions/new/",
                      {"effective_from": "2027-07-01", "amount": "1", "condition": json.dumps(AGED_80)}
                      ).status_code == 403
        assert c.post(f"/eligibility/policies/{aged_80.pk}/status/", {"status": "active"}).status_code == 403
        assert c.post("/eligibility/policies/funds/", {"code": "x", "name": "x"}).status_code == 403
        api = api_client(user)
        assert [p["code"] for p in api.get("/api/v1/policies").json()] == ["aged_80"]
        assert send(api, "post", "/api/v1/policies", policy_payload(welfare)).status_code == 403
        assert send(api, "post", f"/api/v1/policies/{aged_80.pk}/versions",
                    {"effective_from": "2027-07-01", "amount": "1", "condition": AGED_80}).status_code == 403
        assert send(api, "patch", f"/api/v1/policies/{aged_80.pk}", {"name": "x"}).status_code == 403
        assert send(api, "post", f"/api/v1/policies/{aged_80.pk}/status", {"status": "active"}).status_code == 403
        assert send(api, "post", "/api/v1/funds", {"code": "x", "name": "x"}).status_code == 403
    assert stored() == before


def test_another_district_neither_sees_nor_changes_the_policies(
    district: District, personas: Personas, aged_80: Policy, elsewhere: dict[str, Any]
) -> None:
    before = stored()
    c = client_for(elsewhere["officer"])
    listing = c.get("/eligibility/policies/").content.decode()
    assert "云岭区高龄补贴" in listing
    assert "居家养老服务补贴" not in listing
    assert c.get(f"/eligibility/policies/{aged_80.pk}/").status_code == 404
    assert c.get(f"/eligibility/policies/{aged_80.pk}/edit/").status_code == 404
    assert c.post(f"/eligibility/policies/{aged_80.pk}/status/", {"status": "retired"}).status_code == 404
    assert "<td>福利彩票公益金</td>" not in c.get("/eligibility/policies/funds/").content.decode()
    api = api_client(elsewhere["officer"])
    assert api.get(f"/api/v1/policies/{aged_80.pk}").status_code == 404
    assert send(api, "post", f"/api/v1/policies/{aged_80.pk}/versions",
                {"effective_from": "2027-07-01", "amount": "1", "condition": AGED_80}).status_code == 404
    assert [p["code"] for p in api.get("/api/v1/policies").json()] == ["yl_aged"]
    assert [f["code"] for f in api.get("/api/v1/funds").json()] == ["yl_welfare"]
    # And the other way round.
    assert client_for(personas.district_officer).get(
        f"/eligibility/policies/{elsewhere['policy'].pk}/").status_code == 404
    assert stored() == before


def test_people_without_an_eligibility_role_cannot_open_the_policies(district: District, personas: Personas,
                                                                      aged_80: Policy) -> None:
    for user in (personas.caregiver, personas.outsider, personas.operator):
        c = client_for(user)
        assert c.get("/eligibility/policies/").status_code == 403
        assert c.get("/eligibility/policies/funds/").status_code == 403
        assert c.get(f"/eligibility/policies/{aged_80.pk}/").status_code == 404
        assert "补贴政策" not in c.get("/").content.decode()
    assert "补贴政策" in client_for(personas.community_worker).get("/").content.decode()


# --- the pages -------------------------------------------------------------------------------------------


def test_the_officer_writes_a_policy_and_its_first_version_on_the_pages(district: District, personas: Personas,
                                                                        welfare: Fund) -> None:
    c = client_for(personas.district_officer)
    form = c.get("/eligibility/policies/new/").content.decode()
    assert "福利彩票公益金（welfare）" in form
    response = c.post("/eligibility/policies/new/", {
        "code": "bed_nursing_total", "name": "家庭养老床位护理补贴（全失能）", "legal_basis": "青民〔2026〕12号",
        "fund": welfare.pk, "benefit_kind": "monthly_subsidy", "exclusivity_group": "bed_nursing", "proactive": "on"})
    policy = Policy.objects.get(code="bed_nursing_total")
    assert response.status_code == 302
    assert response["Location"] == f"/eligibility/policies/{policy.pk}/versions/new/"
    assert (policy.status, policy.proactive, policy.created_by) == (PolicyStatus.DRAFT, True, personas.district_officer)
    page = c.get(response["Location"]).content.decode()
    assert "每月补贴（元）" in page
    assert initial_tree(page) is None
    tree = {"all": [{"field": "economic_status", "op": "in", "value": ["tekun", "dibao"]},
                    {"field": "capability_level", "op": "eq", "value": 4}]}
    saved = c.post(response["Location"], {"effective_from": "2027-01-01", "amount": "1200", "proration": "none",
                                          "note": "", "condition": json.dumps(tree)})
    assert saved.status_code == 302
    detail = c.get(saved["Location"]).content.decode()
    assert "经济状况 属于 特困供养、低保 且 能力等级（有效评估） = 4" in detail
    assert "每月 1200.00 元" in detail
    assert "发布施行" in detail
    assert c.post(f"/eligibility/policies/{policy.pk}/status/", {"status": "active"}).status_code == 302
    assert Policy.objects.get(pk=policy.pk).status == PolicyStatus.ACTIVE
    listing = c.get("/eligibility/policies/").content.decode()
    assert "每月 1200.00 元" in listing
    assert "2027-01-01" in listing
    channels = set(AuditEvent.objects.filter(action=AuditAction.MANAGE_POLICY, actor=personas.district_officer)
                   .exclude(subject__startswith="新建资金").values_list("channel", flat=True))
    assert channels == {Channel.WEB}


def initial_tree(page: str) -> Any:
    """The tree the condition builder starts from."""
    found = re.search(r'id="cb-initial" type="application/json">(.*?)</script>', page)
    assert found is not None
    return json.loads(found.group(1))


def test_a_refused_version_comes_back_with_the_tree_and_the_node_named(district: District, personas: Personas,
                                                                       aged_80: Policy) -> None:
    c = client_for(personas.district_officer)
    url = f"/eligibility/policies/{aged_80.pk}/versions/new/"
    assert initial_tree(c.get(url).content.decode()) == AGED_80  # the version in force, to start from
    tree = {"all": [AGED_80, {"field": "economic_status", "op": "in", "value": []}]}
    before = stored()
    response = c.post(url, {"effective_from": "2027-07-01", "amount": "550", "proration": "none",
                            "condition": json.dumps(tree)})
    page = response.content.decode()
    assert response.status_code == 200
    assert "请选择经济状况的取值（位置：第 2 项）" in page
    assert 'data-error-path="all.1.value"' in page
    assert initial_tree(page) == tree
    assert 'value="550"' in page
    # A bad amount is shown on the amount, the tree kept.
    response = c.post(url, {"effective_from": "2027-07-01", "amount": "五百", "proration": "none",
                            "condition": json.dumps(AGED_80)})
    assert "金额“五百”应为数字，如 500 或 12.50" in response.content.decode()
    response = c.post(url, {"effective_from": "2027-01-01", "amount": "500", "proration": "none",
                            "condition": json.dumps(AGED_80)})
    assert "新版本的生效日期须晚于它" in response.content.decode()
    assert stored() == before


def test_the_policy_forms_show_refusals_on_their_fields(district: District, personas: Personas,
                                                        aged_80: Policy, welfare: Fund) -> None:
    c = client_for(personas.district_officer)
    before = stored()
    page = c.post("/eligibility/policies/new/", {
        "code": "aged_80", "name": "重复", "legal_basis": "青民〔2026〕12号", "fund": welfare.pk,
        "benefit_kind": "monthly_quota"}).content.decode()
    assert "本区已有编码为“aged_80”的政策" in page
    edit = c.get(f"/eligibility/policies/{aged_80.pk}/edit/").content.decode()
    assert "已有版本，待遇类型不能更改" in edit
    page = c.post(f"/eligibility/policies/{aged_80.pk}/edit/", {
        "name": "居家养老服务补贴（四）80岁以上", "legal_basis": "", "fund": welfare.pk}).content.decode()
    assert "请填写政策依据（文号）" in page
    assert stored() == before
    c.post(f"/eligibility/policies/{aged_80.pk}/edit/", {
        "name": "居家养老服务补贴（四）80岁以上", "legal_basis": "青民〔2027〕1号", "fund": welfare.pk,
        "exclusivity_group": "home_care_subsidy", "proactive": "on"})
    assert Policy.objects.get(pk=aged_80.pk).legal_basis == "青民〔2027〕1号"


def test_the_kind_parameters_are_asked_for_on_the_version_form(district: District, personas: Personas,
                                                               welfare: Fund) -> None:
    by = personas.district_officer
    c = client_for(by)
    meals = make_policy(district, by, welfare, "meals", kind="per_service")
    page = c.get(f"/eligibility/policies/{meals.pk}/versions/new/").content.decode()
    assert "计量单位" in page
    assert "自付比例" not in page
    refused = c.post(f"/eligibility/policies/{meals.pk}/versions/new/", {
        "effective_from": "2027-01-01", "amount": "3", "unit": "", "proration": "none",
        "condition": json.dumps(AGED_80)}).content.decode()
    assert "按次补贴须选择计量单位" in refused
    c.post(f"/eligibility/policies/{meals.pk}/versions/new/", {
        "effective_from": "2027-01-01", "amount": "3", "unit": "meal", "monthly_cap": "30", "proration": "none",
        "condition": json.dumps(AGED_80)})
    assert PolicyVersion.objects.get(policy=meals).parameters == {"unit": "meal", "monthly_cap": 30}
    tier = make_policy(district, by, welfare, "low_cost", kind="co_payment_tier")
    page = c.get(f"/eligibility/policies/{tier.pk}/versions/new/").content.decode()
    assert "自付比例" in page
    assert "金额（元）" not in page
    refused = c.post(f"/eligibility/policies/{tier.pk}/versions/new/", {
        "effective_from": "2027-01-01", "tier": "low_cost", "co_payment_rate": "1", "proration": "none",
        "condition": json.dumps(AGED_80)}).content.decode()
    assert "低偿服务的自付比例应大于 0 且小于 1" in refused
    c.post(f"/eligibility/policies/{tier.pk}/versions/new/", {
        "effective_from": "2027-01-01", "tier": "low_cost", "co_payment_rate": "0.3", "proration": "none",
        "condition": json.dumps(AGED_80)})
    assert "低偿（自付 30%）" in c.get(f"/eligibility/policies/{tier.pk}/").content.decode()


def test_the_funds_page_lists_and_creates_funds(district: District, personas: Personas, welfare: Fund) -> None:
    c = client_for(personas.district_officer)
    assert "福利彩票公益金" in c.get("/eligibility/policies/funds/").content.decode()
    refused = c.post("/eligibility/policies/funds/", {"code": "welfare", "name": "重复"}).content.decode()
    assert "本区已有编码为“welfare”的资金" in refused
    assert c.post("/eligibility/policies/funds/", {"code": "central_pilot", "name": "中央试点资金"}).status_code == 302
    assert Fund.objects.filter(district=district.district, code="central_pilot", name="中央试点资金").exists()
    assert AuditEvent.objects.filter(action=AuditAction.MANAGE_POLICY, subject="新建资金：中央试点资金",
                                     channel=Channel.WEB).count() == 1
    worker_page = client_for(personas.community_worker).get("/eligibility/policies/funds/").content.decode()
    assert "中央试点资金" in worker_page
    assert "新建资金</button>" not in worker_page
