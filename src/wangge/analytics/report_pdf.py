"""The monthly evaluation report (考核通报) as a PDF (reportlab), from analytics.report's
data: A4, a header with the month and the grid on every page, a footer with the page
number, the totals with 环比, the red and black lists, the late and reworked cases.

Chinese text: an embedded TrueType font when one is installed (WenQuanYi, Droid Sans
Fallback …: reportlab embeds TrueType outlines only, so the CFF-based Noto CJK .ttc files
do not qualify), else Adobe's CID font STSong-Light, which every PDF reader has (nothing
embedded; the text stays searchable and extractable)."""

from __future__ import annotations

import io
import threading
from pathlib import Path

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from wangge.analytics.metrics import METRIC_BY_CODE
from wangge.analytics.report import CaseList, RankingSection, Report, Value

#: TrueType CJK fonts tried in order (the first that loads is embedded)
TTF_CANDIDATES: tuple[tuple[str, int], ...] = (
    ("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc", 0),
    ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", 0),
    ("/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf", 0),
    ("/usr/share/fonts/truetype/arphic/uming.ttc", 0),
)
CID_FONT = "STSong-Light"
_font: str | None = None
_lock = threading.Lock()


def font_name() -> str:
    """Register the Chinese font once per process and return its name."""
    global _font
    with _lock:
        if _font is None:
            for path, index in TTF_CANDIDATES:
                if Path(path).exists():
                    try:
                        pdfmetrics.registerFont(TTFont("WanggeCJK", path, subfontIndex=index))
                    except Exception:  # a font reportlab cannot read: try the next
                        continue
                    _font = "WanggeCJK"
                    break
            else:
                pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
                _font = CID_FONT
    return _font


def fmt(value: Value, unit: str = "count") -> str:
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value:.2f}%"
    if unit == "hours":
        return f"{value:.2f}"
    return f"{value:,}" if isinstance(value, int) else f"{value:.2f}"


def fmt_change(change: float | None, unit: str) -> str:
    if change is None:
        return "—"
    sign = "+" if change > 0 else ""
    if unit == "count":
        return f"{sign}{change:.2f}%"
    if unit == "percent":
        return f"{sign}{change:.2f} 个百分点"
    return f"{sign}{change:.2f} 小时"


def month_label(report: Report) -> str:
    year, month = report.month.split("-")
    return f"{year}年{int(month)}月"


class _Styles:
    def __init__(self, font: str) -> None:
        self.title = ParagraphStyle("t", fontName=font, fontSize=18, leading=24,
                                    alignment=1, spaceAfter=4 * mm)
        self.sub = ParagraphStyle("s", fontName=font, fontSize=10, leading=14, alignment=1,
                                  textColor=colors.HexColor("#555555"), spaceAfter=4 * mm)
        self.h2 = ParagraphStyle("h", fontName=font, fontSize=13, leading=18,
                                 spaceBefore=5 * mm, spaceAfter=2 * mm)
        self.body = ParagraphStyle("b", fontName=font, fontSize=9.5, leading=13)
        self.cell = ParagraphStyle("c", fontName=font, fontSize=8.5, leading=11)


def _table(font: str, head: list[str], rows: list[list[str]], widths: list[float],
           styles: _Styles) -> Table:
    data = [[Paragraph(h, styles.cell) for h in head]]
    data += [[Paragraph(c, styles.cell) for c in row] for row in rows]
    t = Table(data, colWidths=widths, repeatRows=1)
    t.setStyle(TableStyle([
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8eef7")),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.HexColor("#999999")),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]))
    return t


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _ranking(section: RankingSection, font: str, styles: _Styles, width: float) -> list:
    out: list = [Paragraph(_escape(section.title), styles.h2)]
    if not section.scheme:
        out.append(Paragraph("未设置启用的考核方案。", styles.body))
        return out
    out.append(Paragraph(_escape(f"考核方案：{section.scheme}；参评 {section.peers} 个。"),
                         styles.body))
    names = [METRIC_BY_CODE[c].name for c in section.metrics]
    head = ["名次", "名称", "综合得分", *names]
    first = 12 * mm, 38 * mm, 18 * mm
    rest = (width - sum(first)) / max(1, len(names))
    widths = [*first, *[rest] * len(names)]
    for title, lines in (("红榜（前十）", section.red), ("黑榜（后十）", section.black)):
        out.append(Paragraph(title, styles.body))
        if not lines:
            out.append(Paragraph("无。", styles.body))
            continue
        rows = [[str(r.rank), _escape(r.label), fmt(r.score, "hours"),
                 *[fmt(r.values.get(c), METRIC_BY_CODE[c].unit) for c in section.metrics]]
                for r in lines]
        out.append(_table(font, head, rows, widths, styles))
        out.append(Spacer(1, 2 * mm))
    return out


def _cases(title: str, amount: str, cases: CaseList, font: str, styles: _Styles,
           width: float) -> list:
    out: list = [Paragraph(title, styles.h2)]
    note = f"共 {cases.total} 件"
    if cases.confidential:
        note += f"，其中涉密 {cases.confidential} 件（只计数，不列出）"
    if len(cases.lines) + cases.confidential < cases.total:
        note += f"，下表列出前 {len(cases.lines)} 件"
    out.append(Paragraph(note + "。", styles.body))
    if cases.lines:
        rows = [[c.register_no, _escape(c.category), _escape(c.grid), _escape(c.department),
                 str(c.amount)] for c in cases.lines]
        out.append(_table(font, ["登记号", "事件分类", "网格", "承办部门", amount], rows,
                          [36 * mm, 30 * mm, 44 * mm, width - 130 * mm, 20 * mm], styles))
    return out


def render(report: Report) -> bytes:
    """The report as PDF bytes."""
    font = font_name()
    styles = _Styles(font)
    buf = io.BytesIO()
    title = f"{month_label(report)}考核通报"
    doc = SimpleDocTemplate(buf, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm,
                            topMargin=20 * mm, bottomMargin=18 * mm, title=title,
                            author="网格化服务管理平台", subject=report.grid_name)
    width = A4[0] - 30 * mm

    def decorate(canvas: Canvas, doc_: SimpleDocTemplate) -> None:
        canvas.saveState()
        canvas.setFont(font, 8.5)
        canvas.setFillColor(colors.HexColor("#555555"))
        canvas.drawString(15 * mm, A4[1] - 12 * mm,
                          f"{report.grid_name} · {month_label(report)}考核通报")
        canvas.drawRightString(A4[0] - 15 * mm, A4[1] - 12 * mm, report.month)
        canvas.drawCentredString(A4[0] / 2, 10 * mm, f"第 {doc_.page} 页")
        canvas.restoreState()

    story: list = [
        Paragraph(_escape(f"{report.grid_name}{title}"), styles.title),
        Paragraph(_escape(f"统计期间：{report.since} 至 {report.until}；"
                          f"环比：{report.previous_since} 至 {report.previous_until}；"
                          f"生成时间：{report.generated_at[:16]}"),
                  styles.sub),
        Paragraph("一、主要指标", styles.h2),
    ]
    rows = [[_escape(m.name), fmt(m.value, m.unit), fmt(m.previous, m.unit),
             fmt_change(m.change, m.unit)] for m in report.totals]
    story.append(_table(font, ["指标", "本月", "上月", "环比"], rows,
                        [62 * mm, 38 * mm, 38 * mm, width - 138 * mm], styles))
    story.append(Paragraph("二、考核排名（红黑榜）", styles.h2))
    for section in report.rankings:
        parts = _ranking(section, font, styles, width)
        story.append(KeepTogether(parts[:3]))  # the title stays with its first lines
        story.extend(parts[3:])
    story.append(Paragraph("三、通报事件", styles.h2))
    story.extend(_cases("超期事件", "超期天数", report.late, font, styles, width))
    story.extend(_cases("返工事件", "返工次数", report.reworked, font, styles, width))
    story.append(Spacer(1, 6 * mm))
    story.append(Paragraph("说明：超期天数为自然日，自办理时限到期起算至处置完成（未完成的算至月末）；"
                           "涉密事件计入统计数字，不逐条列出；通报中不含任何个人信息。",
                           styles.body))
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buf.getvalue()
