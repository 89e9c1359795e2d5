"""The printable care-plan agreement (三方协议): the parties, the person, the services with their
schedule and prices by tier, the month's cost against the quota, the three signatures as drawn,
and — when printed right after a personal request link was made — its QR code.

The Chinese font and the signature decoding are the assessment report's (one font registry per
process; orders may import assessments by the layer rules)."""

from __future__ import annotations

import io
from typing import Any

import segno
from django.utils import timezone
from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from sanshe.assessments.report import _signature_png, cjk_font
from sanshe.catalog.models import Tier, Unit
from sanshe.orders import rules
from sanshe.orders.models import CarePlan, SignerRole
from sanshe.orders.plans import plan_month

INK = colors.HexColor("#1f2937")
RULE = colors.HexColor("#4b5563")
SHADE = colors.HexColor("#eef1f5")


def _esc(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _date(day: Any) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "—"


class _Styles:
    def __init__(self, font: str) -> None:
        self.body = ParagraphStyle("body", fontName=font, fontSize=9.5, leading=13.5, textColor=INK, wordWrap="CJK")
        self.small = ParagraphStyle("small", parent=self.body, fontSize=8, leading=11)
        self.label = ParagraphStyle("label", parent=self.body, textColor=colors.HexColor("#374151"))
        self.title = ParagraphStyle("title", parent=self.body, fontSize=17, leading=23, alignment=TA_CENTER)
        self.subtitle = ParagraphStyle("subtitle", parent=self.small, alignment=TA_CENTER,
                                       textColor=colors.HexColor("#4b5563"))
        self.head = ParagraphStyle("head", parent=self.body, fontSize=11, leading=15, spaceBefore=4, spaceAfter=2)


def _grid(rows: list[list[Any]], widths: list[float], *, header: bool = False, label_cols: tuple[int, ...] = ()) -> Table:
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style: list[tuple[Any, ...]] = [
        ("GRID", (0, 0), (-1, -1), 0.6, RULE), ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3), ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
        ("LEFTPADDING", (0, 0), (-1, -1), 4), ("RIGHTPADDING", (0, 0), (-1, -1), 4),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), SHADE))
    style += [("BACKGROUND", (c, 0), (c, -1), SHADE) for c in label_cols]
    table.setStyle(TableStyle(style))
    return table


def _signature(image: str, s: _Styles) -> Any:
    png = _signature_png(image)
    if png is None:
        return Paragraph("（签名图像无法显示）", s.small)
    with PILImage.open(io.BytesIO(png)) as im:
        width, height = im.size
    scale = min(40 * mm / width, 12 * mm / height)
    return Image(io.BytesIO(png), width=width * scale, height=height * scale, mask="auto")


def _qr(url: str) -> Image:
    out = io.BytesIO()
    segno.make(url, error="m").save(out, kind="png", scale=6, border=2)
    out.seek(0)
    return Image(out, width=30 * mm, height=30 * mm)


def build_story(plan: CarePlan, font: str, *, link_url: str = "", has_link: bool = False) -> list[Any]:
    s = _Styles(font)
    p = Paragraph
    w = A4[0] - 36 * mm
    person = plan.person
    community = person.residence_region
    today = timezone.localdate()
    story: list[Any] = [
        p("居家养老服务三方协议", s.title),
        p(f"（个性化养老方案 第{plan.version}版 · 方案编号 {plan.pk} · {_esc(plan.get_status_display())}）", s.subtitle),
        Spacer(1, 4 * mm),
        p("一、协议各方", s.head),
        _grid([
            [p("甲方（社区）", s.label), p(_esc(f"{community.parent.name if community.parent else ''}{community.name}"), s.body)],
            [p("乙方（服务机构）", s.label), p(_esc(plan.provider.name) + (f"　电话 {_esc(plan.provider.contact_phone)}"
                                                                       if plan.provider.contact_phone else ""), s.body)],
            [p("丙方（服务对象）", s.label), p(_esc(f"{person.name}　{person.get_sex_display()}　{person.age(today)}岁　"
                                                 f"身份证号 {person.id_number_masked or '—'}"), s.body)],
            [p("服务地址", s.label), p(_esc(person.address), s.body)],
        ], [w * 0.2, w * 0.8], label_cols=(0,)),
        p("二、服务依据与期限", s.head),
    ]
    basis = plan.needs or "—"
    funding = "；".join(f"{e.get('name', '')}（{e.get('amount', '')} 元）" if e.get("kind") != "co_payment_tier"
                       else f"{e.get('name', '')}" for e in plan.entitlements) or "无（按有偿服务收费）"
    period = f"{_date(plan.starts_on)} 起" + (f" 至 {_date(plan.ends_on)}" if plan.ends_on else "，至方案修改或终止")
    story.append(_grid([
        [p("评估与需求", s.label), p(_esc(basis), s.body)],
        [p("照护目标", s.label), p(_esc(plan.goals or "—"), s.body)],
        [p("享受的待遇", s.label), p(_esc(funding), s.body)],
        [p("服务期限", s.label), p(_esc(period), s.body)],
    ], [w * 0.2, w * 0.8], label_cols=(0,)))

    month = max(plan.starts_on, today).replace(day=1)
    rows, cost = plan_month(plan, month.year, month.month)
    story.append(p(f"三、服务内容、时间与价格（按 {month.year}年{month.month}月 计）", s.head))
    head = ["服务项目", "服务日", "时间", "时长", "档次", "单价（标准/自付）", "当月次数", "当月自付", "当月补贴"]
    table: list[list[Any]] = [[p(h, s.small) for h in head]]
    for r in rows:
        unit = Unit(r.row.item.unit).label
        if r.line is None:
            price, elder, fund = "未定价", "—", "—"
        else:
            standard = r.line.elder_price + r.line.fund_price
            price = f"{standard:.2f} / {r.line.elder_price:.2f} 元/{unit}"
            elder, fund = f"{r.line.elder:.2f}", f"{r.line.fund:.2f}"
        caregiver = f"<br/>固定护理员：{_esc(r.row.preferred_caregiver.name)}" if r.row.preferred_caregiver else ""
        table.append([
            p(_esc(r.row.item.name) + caregiver, s.small), p(rules.weekdays_label(r.row.weekdays), s.small),
            p(f"{r.row.window_start:%H:%M}–{r.row.window_end:%H:%M}", s.small), p(f"{r.row.minutes} 分钟", s.small),
            p(Tier(r.row.tier).label, s.small), p(price, s.small), p(str(r.visits), s.small), p(elder, s.small),
            p(fund, s.small),
        ])
    quota = f"每月服务额度 {cost.quota:.2f} 元" if cost.quota is not None else "无每月服务额度"
    warn = ""
    if cost.over_quota > 0:
        warn = (f"，<font color='#b91c1c'>超出额度 {cost.over_quota:.2f} 元</font>" if cost.quota is not None
                else "，<font color='#b91c1c'>财政补贴部分无额度来源，请核对收费档次</font>")
    table.append([p(f"合计：当月服务费用 {cost.total:.2f} 元，其中本人自付 {cost.elder:.2f} 元，"
                    f"财政补贴 {cost.fund:.2f} 元（{quota}{warn}）", s.small)] + [""] * 8)
    grid = _grid(table, [w * x for x in (0.16, 0.11, 0.13, 0.08, 0.07, 0.17, 0.07, 0.1, 0.11)], header=True)
    grid.setStyle(TableStyle([("SPAN", (0, len(table) - 1), (-1, len(table) - 1))]))
    story.append(grid)
    story.append(p("四、各方责任", s.head))
    story.append(p("乙方按上表时间上门服务，服务人员持证上岗、签到签退并由丙方或其家属确认；因故不能按时服务的，"
                   "乙方应提前告知丙方并另行安排。丙方按收费档次支付自付部分，不得将补贴额度兑换现金或物品。"
                   "甲方负责监督服务质量、受理投诉并组织回访。方案的任何修改均形成新版本，经三方重新签署后生效。", s.body))

    story.append(p("五、签署", s.head))
    signed = {x.role: x for x in plan.signatures.all()}
    sig_rows: list[list[Any]] = [[p("签署方", s.label), p("签署人", s.label), p("签名", s.label), p("日期", s.label)]]
    for role in (SignerRole.COMMUNITY, SignerRole.PROVIDER, SignerRole.ELDER, SignerRole.GUARDIAN):
        sig = signed.get(role)
        if sig is None and role in (SignerRole.ELDER, SignerRole.GUARDIAN) and (
                SignerRole.ELDER in signed or SignerRole.GUARDIAN in signed):
            continue  # the elder or a guardian signs: print the one who did
        sig_rows.append([p(SignerRole(role).label, s.label), p(_esc(sig.signer_name) if sig else "—", s.body),
                         _signature(sig.image, s) if sig else p("（未签名）", s.small),
                         p(_date(timezone.localtime(sig.signed_at).date()) if sig else "—", s.body)])
    story.append(_grid(sig_rows, [w * 0.22, w * 0.22, w * 0.34, w * 0.22], header=True))
    if link_url:
        story += [Spacer(1, 4 * mm), p("六、自助下单", s.head)]
        qr = Table([[_qr(link_url), p("老人或家属用手机扫描左侧二维码，即可选择服务项目、日期和上午/下午，"
                                       "点“我要服务”提交，无需注册。二维码仅限本人使用，如遗失请联系社区停用。", s.body)]],
                   colWidths=[34 * mm, w - 34 * mm])
        qr.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "MIDDLE")]))
        story.append(qr)
    elif has_link:
        story += [Spacer(1, 3 * mm), p("已开通自助下单链接（二维码在开通时单独打印）。", s.small)]
    return story


def _footer(plan: CarePlan, font: str, printed_by: str) -> Any:
    def draw(canvas: Canvas, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(colors.HexColor("#6b7280"))
        canvas.drawString(18 * mm, 11 * mm, f"方案编号 {plan.pk} 第{plan.version}版　本协议含个人信息，请妥善保管　"
                                            f"打印：{printed_by} {timezone.localtime():%Y-%m-%d %H:%M}")
        canvas.drawRightString(A4[0] - 18 * mm, 11 * mm, f"第 {doc.page} 页")
        canvas.restoreState()
    return draw


def care_plan_pdf(plan: CarePlan, *, printed_by: str = "", link_url: str = "", has_link: bool = False) -> bytes:
    """The agreement as PDF bytes (A4)."""
    font = cjk_font()
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=15 * mm,
                            bottomMargin=18 * mm, title=f"居家养老服务三方协议 {plan.pk}", author=plan.provider.name,
                            subject="个性化养老方案", creator="", producer="")
    footer = _footer(plan, font, printed_by)
    doc.build(build_story(plan, font, link_url=link_url, has_link=has_link), onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
