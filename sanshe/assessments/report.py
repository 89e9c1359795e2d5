"""The printable assessment report (PDF), laid out like GB/T 42195-2022 Appendix C:
header, the person, C.1 dimension scores, C.2 total, C.3 preliminary level, C.4 the level-change
basis, C.5 final level, validity, agency, signatures, review, and the objection period.

Chinese text needs a CJK font. A TrueType font found on the machine is embedded (subset), so the
PDF looks the same everywhere; without one, reportlab's built-in CID font STSong-Light is used,
which every PDF reader supplies itself, so a fresh machine still produces a valid report.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import functools
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from django.utils import timezone
from PIL import Image as PILImage
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import Flowable, Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from sanshe.assessments import rules
from sanshe.assessments.models import Assessment, AssessmentStatus, SignerRole
from sanshe.lib.masking import mask_name

log = logging.getLogger(__name__)

# TrueType CJK fonts to embed, first found wins: (path, index inside a .ttc collection).
# Noto/Source Han CJK files use PostScript (CFF) outlines, which reportlab cannot embed; they are
# tried anyway (a TrueType build may be installed under the same name) and skipped when refused.
FONT_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),  # Debian fonts-wqy-microhei
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),  # fonts-wqy-zenhei
    ("/usr/share/fonts/wqy-microhei/wqy-microhei.ttc", 0),  # Fedora / RHEL
    ("/usr/share/fonts/wenquanyi/wqy-microhei/wqy-microhei.ttc", 0),  # Arch
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),  # fonts-arphic-uming
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),  # fonts-droid-fallback
    ("/usr/share/fonts/truetype/noto/NotoSansSC-Regular.ttf", 0),
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 2),  # fonts-noto-cjk (index 2: SC)
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 2),
    ("C:/Windows/Fonts/simhei.ttf", 0),
    ("C:/Windows/Fonts/simsun.ttc", 0),
)
FALLBACK_FONT = "STSong-Light"
EMBEDDED_FONT = "SansheCJK"

# Signatures are drawn on a phone: refuse anything absurd before decoding it.
MAX_SIGNATURE_PIXELS = 4000 * 4000

INK = colors.HexColor("#1f2937")
RULE = colors.HexColor("#4b5563")
SHADE = colors.HexColor("#eef1f5")


@functools.cache
def cjk_font() -> str:
    """Register and return the name of the Chinese font to write with (once per process)."""
    for path, index in FONT_CANDIDATES:
        try:
            pdfmetrics.registerFont(TTFont(EMBEDDED_FONT, path, subfontIndex=index))
        except Exception as exc:  # missing file, or outlines reportlab cannot embed
            log.debug("CJK font %s not usable: %s", path, exc)
            continue
        return EMBEDDED_FONT
    pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
    return FALLBACK_FONT


# --- what the report says ------------------------------------------------------------------------


@dataclass
class DimensionRow:
    code: str
    name: str
    score: int | None
    max_score: int
    grade: str = ""  # combination instruments (MZ/T 039) grade each dimension


@dataclass
class SignatureRow:
    role: str
    name: str
    signed_on: dt.date | None
    png: bytes | None  # None: not signed, or an image that could not be read


@dataclass
class ReportData:
    number: str
    assessed_on: dt.date | None
    reason: str
    instrument: str  # code and title: GB/T 42195-2022《老年人能力评估规范》
    instrument_code: str
    instrument_version: str
    person_name: str
    sex: str
    age: int | None
    id_number: str
    community: str
    dimensions: list[DimensionRow]
    total: int | None
    max_total: int
    levels: list[tuple[int, str]]
    preliminary_level: int | None
    final_level: int | None
    final_level_name: str
    change_reasons: list[str]
    agency: str
    signatures: list[SignatureRow]
    reviewer: str
    reviewed_on: dt.date | None
    review_note: str
    valid_from: dt.date | None
    valid_until: dt.date | None
    objection_until: dt.date | None
    is_preview: bool  # submitted, not yet published: the agency reviewer's copy
    follows_appendix_c: bool = True  # GB/T 42195 defines the report (C.1–C.5) and the C.4 basis codes
    printed_by: str = ""
    printed_at: dt.datetime | None = None


def _signature_png(data_url: str) -> bytes | None:
    """The PNG bytes of a stored signature, or None when it cannot be shown safely."""
    prefix = "data:image/png;base64,"
    if not data_url.startswith(prefix):
        return None
    try:
        raw = base64.b64decode(data_url[len(prefix):], validate=True)
        with PILImage.open(io.BytesIO(raw)) as image:
            if image.format != "PNG" or image.width * image.height > MAX_SIGNATURE_PIXELS:
                return None
            image.load()
    except (binascii.Error, ValueError, OSError, PILImage.DecompressionBombError):
        return None
    return raw


def _grade_name(instrument: rules.Instrument, dimension: str, grade: int) -> str:
    """A dimension grade's name (e.g. 轻度受损) from the instrument file."""
    for dim in instrument.definition.get("dimensions", ()):
        if dim.get("code") == dimension:
            grading = dim.get("grading") or {}
            for band in (*grading.get("bands", ()), *grading.get("grades", ())):
                if band.get("grade") == grade:
                    return str(band.get("name", ""))
    return ""


def report_data(assessment: Assessment, *, printed_by: str = "", today: dt.date | None = None) -> ReportData:
    """Everything the report prints, from the stored assessment and its frozen result."""
    today = today or timezone.localdate()
    person = assessment.person
    try:
        instrument: rules.Instrument | None = rules.load_instrument(assessment.instrument_code,
                                                                    assessment.instrument_version)
    except rules.InstrumentError:
        instrument = None
    result = assessment.result or {}
    scores: dict[str, int] = result.get("dimension_scores") or {}
    grades: dict[str, int] = result.get("dimension_grades") or {}
    dimensions = []
    levels: list[tuple[int, str]] = []
    if instrument is not None:
        for dim in instrument.dimensions:
            grade = ""
            if dim.code in grades:
                name = _grade_name(instrument, dim.code, grades[dim.code])
                grade = f"{grades[dim.code]}级 {name}".strip()
            dimensions.append(DimensionRow(dim.code, dim.name, scores.get(dim.code), dim.max_score, grade))
        levels = [(lv.level, lv.name) for lv in instrument.levels]
    else:  # an instrument file withdrawn since: print what the result holds
        dimensions = [DimensionRow(code, code, value, 0) for code, value in sorted(scores.items())]
    signed = {s.role: s for s in assessment.signatures.all()}
    signatures = []
    for role, label in ((SignerRole.ASSESSOR_1, "评估员"), (SignerRole.ASSESSOR_2, "评估员"),
                        (SignerRole.INFORMANT, "信息提供者")):
        sig = signed.get(role)
        signatures.append(SignatureRow(
            role=label, name=sig.name if sig else "", png=_signature_png(sig.image) if sig else None,
            signed_on=timezone.localtime(sig.signed_at).date() if sig else None,
        ))
    reviewer = assessment.reviewed_by
    final = assessment.final_level
    final_name = result.get("level_name") or dict(levels).get(final if final is not None else -1, "")
    return ReportData(
        number=assessment.number,
        assessed_on=assessment.assessed_on,
        reason=assessment.get_reason_display(),
        instrument=f"{instrument.code}《{instrument.title}》" if instrument else assessment.instrument_code,
        instrument_code=assessment.instrument_code,
        instrument_version=assessment.instrument_version,
        person_name=mask_name(person.name),
        sex=person.get_sex_display(),
        age=person.age(assessment.assessed_on or today),
        id_number=person.id_number_masked or "—",
        community=person.residence_region.full_name(),
        dimensions=dimensions,
        total=assessment.total_score if assessment.total_score is not None else result.get("total"),
        max_total=instrument.max_total if instrument else 0,
        levels=levels,
        preliminary_level=assessment.preliminary_level,
        final_level=final,
        final_level_name=final_name,
        change_reasons=list(result.get("change_reason_texts") or []),
        agency=assessment.agency.name if assessment.agency else "",
        signatures=signatures,
        reviewer=(reviewer.display_name if reviewer else ""),
        reviewed_on=timezone.localtime(assessment.reviewed_at).date() if assessment.reviewed_at else None,
        review_note=assessment.review_note,
        valid_from=assessment.valid_from,
        valid_until=assessment.valid_until,
        objection_until=assessment.objection_until,
        is_preview=assessment.status != AssessmentStatus.PUBLISHED,
        follows_appendix_c=bool(instrument and instrument.definition.get("report")),
        printed_by=printed_by,
        printed_at=timezone.localtime(),
    )


# --- how it looks ------------------------------------------------------------------------------------


def _date(day: dt.date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else "—"


class _Styles:
    def __init__(self, font: str) -> None:
        base = ParagraphStyle("base", fontName=font, fontSize=10, leading=14, textColor=INK, wordWrap="CJK")
        self.body = base
        self.small = ParagraphStyle("small", parent=base, fontSize=8.5, leading=11.5)
        self.muted = ParagraphStyle("muted", parent=self.small, textColor=colors.HexColor("#6b7280"))
        self.label = ParagraphStyle("label", parent=base, textColor=colors.HexColor("#374151"))
        self.title = ParagraphStyle("title", parent=base, fontSize=19, leading=25, alignment=TA_CENTER, spaceAfter=1)
        self.subtitle = ParagraphStyle("subtitle", parent=self.small, alignment=TA_CENTER,
                                       textColor=colors.HexColor("#4b5563"))
        self.center = ParagraphStyle("center", parent=base, alignment=TA_CENTER)


def _escape(text: Any) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class _Stamp(Flowable):
    """'审核前预览 · 未生效' across the header of a copy printed before publication."""

    def __init__(self, font: str, text: str) -> None:
        super().__init__()
        self.font, self.text = font, text
        self.width, self.height = 0, 0

    def draw(self) -> None:
        canvas = self.canv
        canvas.saveState()
        canvas.setStrokeColor(colors.HexColor("#b91c1c"))
        canvas.setFillColor(colors.HexColor("#b91c1c"))
        canvas.setLineWidth(1.2)
        canvas.translate(136 * mm, -6 * mm)
        canvas.rotate(8)
        canvas.roundRect(0, 0, 36 * mm, 10 * mm, 2 * mm)
        canvas.setFont(self.font, 10)
        canvas.drawCentredString(18 * mm, 3.4 * mm, self.text)
        canvas.restoreState()


def _grid(rows: list[list[Any]], widths: Sequence[float], *, label_cols: Sequence[int] = (0,),
          extra: Sequence[tuple[Any, ...]] = ()) -> Table:
    table = Table(rows, colWidths=widths)
    style = [
        ("GRID", (0, 0), (-1, -1), 0.6, RULE),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 3.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 4.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 5),
        ("RIGHTPADDING", (0, 0), (-1, -1), 5),
    ]
    style += [("BACKGROUND", (col, 0), (col, -1), SHADE) for col in label_cols]
    table.setStyle(TableStyle(style + list(extra)))
    return table


def _signature_cell(sig: SignatureRow, s: _Styles) -> Any:
    if sig.png is None:
        return Paragraph("（未签名）" if not sig.name else "（签名图像无法显示）", s.muted)
    with PILImage.open(io.BytesIO(sig.png)) as image:
        width, height = image.size
    box_w, box_h = 44 * mm, 12 * mm
    scale = min(box_w / width, box_h / height)
    return Image(io.BytesIO(sig.png), width=width * scale, height=height * scale, mask="auto")


def _inner(rows: list[list[Any]], widths: Sequence[float], *, header: bool = True) -> Table:
    """A table inside a cell of the main grid: light rules, tight padding."""
    table = Table(rows, colWidths=widths)
    style = [
        ("INNERGRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#9ca3af")),
        ("BOX", (0, 0), (-1, -1), 0.4, colors.HexColor("#9ca3af")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 1.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f7f8fa")))
    table.setStyle(TableStyle(style))
    return table


def _levels(data: ReportData, level: int | None, s: _Styles, width: float) -> Any:
    """The instrument's levels as a printed form's check boxes, the chosen one filled."""
    if not data.levels:
        return Paragraph(f"{level}级" if level is not None else "—", s.body)
    cells = [Paragraph(f"{'■' if n == level else '□'} {n}级 {_escape(name)}", s.body if n == level else s.muted)
             for n, name in data.levels]
    rows = [cells[i:i + 2] + [""] * (2 - len(cells[i:i + 2])) for i in range(0, len(cells), 2)]
    table = Table(rows, colWidths=[width / 2] * 2)
    table.setStyle(TableStyle([("LEFTPADDING", (0, 0), (-1, -1), 0), ("TOPPADDING", (0, 0), (-1, -1), 0.5),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5)]))
    return table


def build_story(data: ReportData, font: str) -> list[Any]:
    s = _Styles(font)
    p = Paragraph
    w = A4[0] - 36 * mm  # printable width
    pad = 10  # a main-grid cell's left + right padding
    label_w = w * 0.25
    value_w = w - label_w
    story: list[Any] = []
    if data.is_preview:
        story.append(_Stamp(font, "审核前预览 · 未生效"))
    appendix = " 附录C" if data.follows_appendix_c else ""
    story += [p("老年人能力评估报告", s.title), p(f"（依据 {_escape(data.instrument)}{appendix}）", s.subtitle),
              Spacer(1, 4 * mm)]

    story.append(_grid([
        [p("评估编号", s.label), p(_escape(data.number), s.body), p("评估基准日期", s.label), p(_date(data.assessed_on), s.body)],
        [p("评估原因", s.label), p(_escape(data.reason), s.body), p("评估标准", s.label),
         p(f"{_escape(data.instrument_code)}（数据版本 {_escape(data.instrument_version)}）", s.body)],
        [p("姓名", s.label), p(_escape(data.person_name), s.body), p("性别 / 年龄", s.label),
         p(f"{_escape(data.sex)} / {data.age}岁" if data.age is not None else _escape(data.sex), s.body)],
        [p("公民身份号码", s.label), p(_escape(data.id_number), s.body), p("居住社区", s.label),
         p(_escape(data.community), s.body)],
    ], [w * 0.17, w * 0.3, w * 0.17, w * 0.36], label_cols=(0, 2)))

    # C.1–C.5 as one block, as the appendix prints them.
    graded = any(d.grade for d in data.dimensions)
    inner_w = value_w - pad
    n = max(1, len(data.dimensions))
    c1_rows: list[list[Any]] = [
        [p(f"{_escape(d.code)} {_escape(d.name)}", s.small) for d in data.dimensions],
        [p(("—" if d.score is None else f"<font size=11>{d.score}</font>") + (f" / {d.max_score}" if d.max_score else ""),
           s.center) for d in data.dimensions],
    ]
    if graded:
        c1_rows.append([p(_escape(d.grade or "—"), s.center) for d in data.dimensions])
    c1 = _inner(c1_rows, [inner_w / n] * n)

    if data.total is not None:
        total = f"<font size=12>{data.total}</font> 分（满分 {data.max_total} 分）"
    else:
        total = "本标准按一级指标分级组合评定等级，不计总分"
    reasons = "<br/>".join(f"■ {_escape(t)}" for t in data.change_reasons) if data.change_reasons else "无"
    basis = ("<br/><font size=7.5 color='#6b7280'>（依据 A.5.11 昏迷、A.4.1 疾病诊断、A.2.14 近30天内照护风险事件判定）</font>"
             if data.follows_appendix_c else "")
    final = (f"<font size=13>{data.final_level}级　{_escape(data.final_level_name)}</font>"
             if data.final_level is not None else "—")
    validity = ("审核通过并发布后生效" if data.is_preview or data.valid_from is None
                else f"{_date(data.valid_from)} 至 {_date(data.valid_until)}")
    story += [Spacer(1, 3.5 * mm)]
    story.append(_grid([
        [p("C.1 一级指标分级<br/><font size=8 color='#6b7280'>得分 / 满分</font>", s.label), c1],
        [p("C.2 老年人能力总得分", s.label), p(total, s.body)],
        [p("C.3 老年人能力初步等级", s.label), _levels(data, data.preliminary_level, s, inner_w)],
        [p("C.4 能力等级变更依据", s.label), p(f"{reasons}{basis}", s.body)],
        [p("C.5 老年人能力最终等级", s.label), p(final, s.body)],
        [p("评估结果有效期", s.label), p(validity, s.body)],
        [p("评估机构（盖章）", s.label), p(_escape(data.agency or "—"), s.body)],
    ], [label_w, value_w], extra=[("TOPPADDING", (0, 4), (-1, 4), 5), ("BOTTOMPADDING", (0, 4), (-1, 4), 6),
                                  ("BOTTOMPADDING", (0, 6), (-1, 6), 30)]))

    sig_rows: list[list[Any]] = [[p("签名人", s.label), p("姓名", s.label), p("签名", s.label), p("日期", s.label)]]
    for sig in data.signatures:
        sig_rows.append([p(sig.role, s.label), p(_escape(sig.name or "—"), s.body), _signature_cell(sig, s),
                         p(_date(sig.signed_on), s.body)])
    review = _escape(data.reviewer) if data.reviewer else "（待审核）"
    note = f"审核意见：{_escape(data.review_note)}" if data.review_note else "评估机构审核"
    sig_rows.append([p("审核人", s.label), p(review, s.body), p(note, s.muted), p(_date(data.reviewed_on), s.body)])
    story += [Spacer(1, 3.5 * mm)]
    story.append(_grid(sig_rows, [label_w, w * 0.22, w * 0.31, w * 0.22], label_cols=(0,),
                       extra=[("BACKGROUND", (0, 0), (-1, 0), SHADE), ("TOPPADDING", (0, 1), (-1, -2), 1.5),
                              ("BOTTOMPADDING", (0, 1), (-1, -2), 1.5)]))

    story += [Spacer(1, 3.5 * mm)]
    if data.objection_until and not data.is_preview:
        objection = (f"异议期：老年人本人或其家属对评估结果有异议的，可于 {_date(data.objection_until)} 前向所在社区"
                     "或评估机构提出复评申请，复评由未参加本次评估的评估员进行。")
    else:
        objection = "异议期：评估结果发布后，老年人本人或其家属对结果有异议的，可在异议期内提出复评申请。"
    story.append(p(objection, s.small))
    return story


def _footer(data: ReportData, font: str) -> Any:
    def draw(canvas: Canvas, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(colors.HexColor("#6b7280"))
        left, right, y = 18 * mm, A4[0] - 18 * mm, 11 * mm
        canvas.setStrokeColor(colors.HexColor("#d1d5db"))
        canvas.line(left, y + 3.5 * mm, right, y + 3.5 * mm)
        printed = timezone.localtime(data.printed_at) if data.printed_at else None
        who = f"{data.printed_by} " if data.printed_by else ""
        when = f"{printed:%Y-%m-%d %H:%M}" if printed else ""
        canvas.drawString(left, y, f"评估编号 {data.number}　本报告含个人信息，请妥善保管　打印：{who}{when}")
        canvas.drawRightString(right, y, f"第 {doc.page} 页")
        canvas.restoreState()
    return draw


def render_report(data: ReportData) -> bytes:
    """The report as PDF bytes (A4, one page for a complete assessment)."""
    font = cjk_font()
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=15 * mm, bottomMargin=18 * mm,
        title=f"老年人能力评估报告 {data.number}", author=data.agency or "", subject="老年人能力评估报告",
        creator="", producer="",
    )
    footer = _footer(data, font)
    doc.build(build_story(data, font), onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()


def assessment_report_pdf(assessment: Assessment, *, printed_by: str = "") -> bytes:
    """The PDF report of one assessment."""
    return render_report(report_data(assessment, printed_by=printed_by))
