"""Long tabular PDFs (the audit-trail reports), drawn directly with ReportLab in bounded memory.

Why not WeasyPrint for these (measured on the audit trail, see bench/compliance_exports.py and
docs/exports.md): WeasyPrint lays out a whole HTML document before writing a page, about 16 entries a
second at ~1.4 MB each (200 entries: 12 s and 293 MB peak), so 10,000 entries would take ten minutes and
gigabytes, and splitting into chunks only bounds the memory, not the time. Here the rows are read from the
database in chunks, made readable per chunk (one query per related record type), wrapped with the font's
own metrics and drawn line by line at known positions: about 3 ms per entry, and nothing but the current
chunk is held besides the PDF being written.

Every page carries what the HTML reports carry: the header (document number, title, site), the footer
(generated at and by, document number, content SHA-256, the latest audit-trail checkpoint) and "page X of
Y". The page total and the content hash are known only after the last row: they are PDF form XObjects,
referenced on every page and defined when the last page is done. Chinese (and every other script the
portal shows) is drawn with the bundled CJK font (fonts-wqy-microhei), subset into the file.
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.utils.translation import gettext as _

log = logging.getLogger(__name__)

MM = 72 / 25.4
PAGE_W, PAGE_H = 595.2756, 841.8898  # A4
MARGIN_TOP, MARGIN_BOTTOM, MARGIN_X = 20 * MM, 22 * MM, 14 * MM
CELL_SIZE, CELL_LEADING = 7.2, 9.0
PAD_X, PAD_Y = 1.4 * MM, 0.9 * MM
GRID = (0.6, 0.6, 0.6)
HEAD_FILL = (0.933, 0.949, 0.965)
INK = (0.067, 0.067, 0.067)
MUTED = (0.33, 0.33, 0.33)
LABEL = (0.06, 0.165, 0.267)
OK = (0.075, 0.451, 0.2)
_LABEL_OP = "%.3f %.3f %.3f rg" % LABEL
_INK_OP = "%.3f %.3f %.3f rg" % INK
BAD = (0.702, 0.149, 0.118)

# The fonts: the CJK face covers Latin, Chinese and the arrows and symbols the trail prints.
SANS_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
)
MONO_CANDIDATES = ("/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",)
_FONTS: dict[str, str] = {}


def _caching_font_class():
    from reportlab.pdfbase.ttfonts import TTFont

    class CachingTTFont(TTFont):
        """Maps a text to its subset codes once per document: a long trail repeats the same field names,
        actions and values thousands of times, and ReportLab maps character by character in Python. The
        mapping of a text never changes within a document (codes are only ever added), so it is cached."""

        def splitString(self, text, doc, encoding="utf-8"):
            cache = doc.__dict__.setdefault("_qms_split_cache", {})
            key = (self.fontName, text)
            hit = cache.get(key)
            if hit is None:
                if len(cache) > 20_000:
                    cache.clear()
                hit = cache[key] = super().splitString(text, doc, encoding)
            return hit

    return CachingTTFont


def _register(name: str, candidates) -> str | None:
    from reportlab.pdfbase import pdfmetrics

    TTFont = _caching_font_class()
    for path in candidates:
        if path and Path(path).is_file():
            try:
                pdfmetrics.registerFont(TTFont(name, path, subfontIndex=0))
            except Exception:  # noqa: BLE001 - an unreadable font file: try the next one
                log.warning("PDF font %s could not be read; trying the next one", path)
                continue
            return name
    return None


def _rl_setup() -> None:
    """Binary (not ASCII85) streams: smaller files and no pure-Python encoding of every page. The C
    accelerators come with the pinned `rl_accel` package (without it ReportLab falls back to Python)."""
    from reportlab import rl_config

    rl_config.useA85 = 0


def fonts() -> tuple[str, str]:
    """(sans, mono) font names registered with ReportLab, once per process. QMS_PDF_FONT names another
    TrueType/TTC file with CJK glyphs; without any, Helvetica (Latin only) is the last resort."""
    if not _FONTS:
        _rl_setup()
        sans = _register("QMSSans", (getattr(settings, "QMS_PDF_FONT", ""), *SANS_CANDIDATES)) or "Helvetica"
        mono = _register("QMSMono", MONO_CANDIDATES) or sans
        _FONTS.update(sans=sans, mono=mono)
    return _FONTS["sans"], _FONTS["mono"]


# ------------------------------------------------------------------------------------------ wrapping

_CJK = "\u2e80-\u9fff\uac00-\ud7af\uf900-\ufaff\uff00-\uffef\u3000-\u303f"
_TOKENS = re.compile(rf"[{_CJK}]|[^\s{_CJK}]+\s*|\s+")


class Wrapper:
    """Greedy line breaking with the font's metrics: between words, between CJK characters, and inside a
    word longer than the line (a hash, a long code) as CSS `overflow-wrap: anywhere` does."""

    def __init__(self, font: str, size: float):
        from reportlab.pdfbase.pdfmetrics import stringWidth

        self.font, self.size = font, size
        self._sw = stringWidth
        self._cache: dict = {}

    def width(self, text: str) -> float:
        return self._sw(text, self.font, self.size)

    def _split_long(self, token: str, width: float) -> list[str]:
        parts, cur = [], ""
        for ch in token:
            if cur and self.width(cur + ch) > width:
                parts.append(cur)
                cur = ch
            else:
                cur += ch
        if cur:
            parts.append(cur)
        return parts

    def wrap(self, text: str, width: float) -> list[str]:
        key = (text, width)
        hit = self._cache.get(key)
        if hit is None:
            if len(self._cache) > 20_000:
                self._cache.clear()
            hit = self._cache[key] = self._wrap(text, width)
        return hit

    def _wrap(self, text: str, width: float) -> list[str]:
        lines: list[str] = []
        for para in str(text).split("\n"):
            if self.width(para) <= width:
                lines.append(para)
                continue
            cur, cur_w = "", 0.0
            for token in _TOKENS.findall(para):
                w = self.width(token)
                if cur_w + w <= width or (not cur and token.isspace()):
                    cur, cur_w = cur + token, cur_w + w
                    continue
                if token.isspace():
                    continue  # a break here: the space is dropped
                if cur.strip():
                    lines.append(cur.rstrip())
                cur, cur_w = "", 0.0
                if w > width:
                    pieces = self._split_long(token, width)
                    lines.extend(pieces[:-1])
                    cur = pieces[-1]
                    cur_w = self.width(cur)
                else:
                    cur, cur_w = token, w
            if cur.strip() or not lines:
                lines.append(cur.rstrip())
        return lines


# ------------------------------------------------------------------------------------------ document


@dataclass
class Column:
    heading: str
    fraction: float  # of the table's width
    mono: bool = False


@dataclass
class Frame:
    """What every page and the first page's head print (the same as compliance/pdf/base.html)."""

    title: str
    document_number: str
    generated_at_text: str
    generated_by: str
    site_name: str
    checkpoint: str = ""
    param_rows: list = field(default_factory=list)


@dataclass
class Labelled:
    """A cell line "label: text" whose label is printed in the heading colour (a change's field name)."""

    label: str
    text: str

    def __str__(self):
        return f"{self.label}: {self.text}"


class TablePdf:
    """Draw one long table with a head section and an optional tail section. Use:

    doc = TablePdf(frame, columns); doc.paragraph(...); doc.table(rows, total=n, progress=fn);
    doc.paragraph(...); pdf_bytes, content_sha256 = doc.finish()
    """

    def __init__(self, frame: Frame, columns: list[Column], *, out=None):
        from reportlab.pdfgen.canvas import Canvas

        self.frame = frame
        self.columns = columns
        self.sans, self.mono = fonts()
        self.out = out if out is not None else io.BytesIO()
        self.c = Canvas(self.out, pagesize=(PAGE_W, PAGE_H), pageCompression=1, invariant=0)
        self.c.setTitle(frame.title)
        self.c.setCreator(frame.site_name)
        self.c.setSubject(frame.document_number)
        self.cell = Wrapper(self.sans, CELL_SIZE)
        self.cell_mono = Wrapper(self.mono, CELL_SIZE - 0.6)
        self.sha = hashlib.sha256()
        self.pages = 0
        self.left, self.right = MARGIN_X, PAGE_W - MARGIN_X
        self.top, self.bottom = PAGE_H - MARGIN_TOP, MARGIN_BOTTOM
        inner = self.right - self.left
        self.xs = [self.left]
        for col in columns:
            self.xs.append(self.xs[-1] + inner * col.fraction)
        self.xs[-1] = self.right
        self.y = self.top
        self._table_open = False
        self._new_page()
        self._head()

    # --- page furniture ---------------------------------------------------------------------------

    def _new_page(self):
        if self.pages:
            self._close_table_segment()
            self.c.showPage()
            self._pack_last_page()
        self.pages += 1
        c = self.c
        f = self.frame
        # header: document number | title | site, and a rule under them
        c.setFillColorRGB(*MUTED)
        c.setFont(self.sans, 8)
        base = PAGE_H - MARGIN_TOP + 3 * MM
        c.drawString(self.left, base, f.document_number)
        c.drawRightString(self.right, base, f.site_name)
        title = f.title
        head_w = Wrapper(self.sans, 8)
        while title and head_w.width(title) > (self.right - self.left) * 0.45:
            title = title[:-2] + "…"
        c.setFillColorRGB(*INK)
        c.drawCentredString(PAGE_W / 2, base, title)
        c.setStrokeColorRGB(0.06, 0.165, 0.267)
        c.setLineWidth(0.6)
        c.line(self.left, base - 1.2 * MM, self.right, base - 1.2 * MM)
        # footer: generated at/by, document number; content SHA-256 (defined at the end); checkpoint
        y = MARGIN_BOTTOM - 3 * MM
        c.setStrokeColorRGB(0.6, 0.6, 0.6)
        c.setLineWidth(0.4)
        c.line(self.left, y + 2.2 * MM, self.right, y + 2.2 * MM)
        c.setFillColorRGB(*MUTED)
        c.setFont(self.sans, 6.5)
        c.drawString(
            self.left,
            y,
            f"{_('Generated')} {f.generated_at_text} UTC · {_('by')} {f.generated_by} · "
            f"{_('Document number')} {f.document_number}",
        )
        label = _("Content SHA-256") + " "
        c.drawString(self.left, y - 3 * MM, label)
        c.saveState()
        c.translate(self.left + Wrapper(self.sans, 6.5).width(label), y - 3 * MM)
        c.doForm("qmsContentSha")
        c.restoreState()
        if f.checkpoint:
            c.setFont(self.mono, 6)
            c.drawString(self.left, y - 6 * MM, f.checkpoint)
        # page X of Y: "Page 3 of " drawn now, the total (and what follows it) is a form defined at the end
        sentence = _("Page %(page)s of %(pages)s") % {"page": self.pages, "pages": "\x00"}
        before, _sep, self._after_total = sentence.partition("\x00")
        c.setFont(self.sans, 8)
        c.setFillColorRGB(*MUTED)
        x = self.right - 32 * MM
        c.drawString(x, y, before)
        c.saveState()
        c.translate(x + Wrapper(self.sans, 8).width(before), y)
        c.doForm("qmsPageTotal")
        c.restoreState()
        self.y = self.top
        self._segment_top = None

    def _pack_last_page(self):
        """Compress the page just finished now, not when the file is saved: ReportLab keeps every page's
        drawing operators as text until then (~40 KB a page), compressed it is ~3 KB. This keeps the
        memory of a 10,000-entry trail near that of its file."""
        from reportlab.pdfbase.pdfdoc import PDFName, PDFStream, PDFZCompress

        page = self.c._doc.Pages.pages[-1]
        if page.stream and not page.Contents:
            stream = PDFStream(content=PDFZCompress.encode(page.stream))
            stream.dictionary["Filter"] = PDFName(PDFZCompress.pdfname)
            stream.__Comment__ = "page stream"
            page.Contents = stream
            page.stream = None

    def _head(self):
        f = self.frame
        self.paragraph(f.title, size=14, color=LABEL, leading=18)
        rows = [
            (_("Document number"), f.document_number),
            (_("Generated"), f"{f.generated_at_text} UTC · {f.generated_by}"),
            *f.param_rows,
        ]
        w = Wrapper(self.sans, 8.5)
        key_w = (self.right - self.left) * 0.28
        for key, value in rows:
            lines = w.wrap(str(value), self.right - self.left - key_w)
            self._need(len(lines) * 11)
            self.c.setFont(self.sans, 8.5)
            self.c.setFillColorRGB(*MUTED)
            self.c.drawString(self.left, self.y - 9, str(key))
            self.c.setFillColorRGB(*INK)
            for i, line in enumerate(lines):
                self.c.drawString(self.left + key_w, self.y - 9 - 11 * i, line)
            self.y -= len(lines) * 11
        self.y -= 2 * MM

    def _need(self, height: float):
        if self.y - height < self.bottom:
            self._new_page()

    def paragraph(self, text: str, *, size: float = 8.5, color=INK, leading: float | None = None, hashed=True):
        """A block of text across the page (wrapped), e.g. the count and the chain's state."""
        text = str(text)
        if hashed:
            self.sha.update(text.encode("utf-8") + b"\n")
        leading = leading or size * 1.35
        lines = Wrapper(self.sans, size).wrap(text, self.right - self.left)
        if len(lines) * leading < (self.top - self.bottom) / 4:
            self._need(len(lines) * leading)  # a short paragraph is not split across pages
        for line in lines:
            self._need(leading)
            self.c.setFont(self.sans, size)
            self.c.setFillColorRGB(*color)
            self.c.drawString(self.left, self.y - size, line)
            self.y -= leading
        self.y -= 1.2 * MM

    # --- the table ----------------------------------------------------------------------------------

    def _header_row(self):
        c = self.c
        lines = [
            self.cell.wrap(col.heading, self.xs[i + 1] - self.xs[i] - 2 * PAD_X) for i, col in enumerate(self.columns)
        ]
        h = max(len(x) for x in lines) * CELL_LEADING + 2 * PAD_Y
        c.setFillColorRGB(*HEAD_FILL)
        c.rect(self.left, self.y - h, self.right - self.left, h, stroke=0, fill=1)
        t = c.beginText()
        t.setFont(self.sans, CELL_SIZE)
        t.setFillColorRGB(*INK)
        t.setTextRenderMode(2)  # fill and stroke: bold with any font, CJK included
        for i, col_lines in enumerate(lines):
            for j, line in enumerate(col_lines):
                t.setTextOrigin(self.xs[i] + PAD_X, self.y - PAD_Y - CELL_SIZE - j * CELL_LEADING)
                t.textOut(line)
        t.setTextRenderMode(0)  # the render mode outlives the text object: back to plain fill
        c.setLineWidth(0.15)
        c.setStrokeColorRGB(*INK)
        c.drawText(t)
        self._segment_top = self.y
        self.y -= h
        self._rule(self.y)

    def _rule(self, y):
        self.c.setStrokeColorRGB(*GRID)
        self.c.setLineWidth(0.4)
        self.c.line(self.left, y, self.right, y)

    def _close_table_segment(self):
        """The column rules of the table part on this page, from its header down to its last row."""
        if self._table_open and self._segment_top is not None:
            c = self.c
            c.setStrokeColorRGB(*GRID)
            c.setLineWidth(0.4)
            for x in self.xs:
                c.line(x, self._segment_top, x, self.y)
            self._rule(self._segment_top)
        self._segment_top = None

    def _wrap_row(self, row) -> list[list]:
        out = []
        for i, value in enumerate(row):
            width = self.xs[i + 1] - self.xs[i] - 2 * PAD_X
            wrapper = self.cell_mono if self.columns[i].mono else self.cell
            lines: list = []
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, Labelled):
                    wrapped = wrapper.wrap(str(item), width)
                    prefix = item.label + ":"
                    if wrapped and wrapped[0].startswith(prefix):
                        lines.append(Labelled(prefix, wrapped[0][len(prefix) :]))
                        lines.extend(wrapped[1:])
                        continue
                    lines.extend(wrapped)
                else:
                    lines.extend(wrapper.wrap("" if item is None else str(item), width))
            out.append(lines)
        return out

    def _draw_lines(self, cells: list[list], start: int, count: int):
        """Draw lines start..start+count of each cell of one row at the current y."""
        c = self.c
        t = c.beginText()
        t.setFillColorRGB(*INK)
        code = t._code  # colour changes as plain operators: ReportLab's setters cost more than the text
        wrappers = [self.cell_mono if col.mono else self.cell for col in self.columns]
        for i, lines in enumerate(cells):
            size = CELL_SIZE - 0.6 if self.columns[i].mono else CELL_SIZE
            t.setFont(self.mono if self.columns[i].mono else self.sans, size)
            x = self.xs[i] + PAD_X
            for j, line in enumerate(lines[start : start + count]):
                y = self.y - PAD_Y - CELL_SIZE - j * CELL_LEADING
                t.setTextOrigin(x, y)
                if isinstance(line, Labelled):
                    code.append(_LABEL_OP)
                    t._textOut(line.label)
                    code.append(_INK_OP)
                    t.setTextOrigin(x + wrappers[i].width(line.label), y)  # the value goes on after its label
                    t._textOut(line.text)
                else:
                    t._textOut(line)
        c.drawText(t)
        self.y -= count * CELL_LEADING + 2 * PAD_Y
        self._rule(self.y)

    def table(self, rows: Iterable[list], *, progress: Callable[[int], None] | None = None, every: int = 500) -> int:
        """Draw the rows (each a list of cells: text, or a list of texts / Labelled lines), the header row
        on every page. A row taller than a page continues on the next one. Returns the number of rows."""
        self._table_open = True
        self._need(3 * CELL_LEADING + 4 * PAD_Y)
        self._header_row()
        n = 0
        for row in rows:
            cells = self._wrap_row(row)
            self.sha.update("\t".join("\n".join(str(x) for x in lines) for lines in cells).encode("utf-8") + b"\n")
            total = max(len(lines) for lines in cells) or 1
            start = 0
            while start < total:
                room = int((self.y - self.bottom - 2 * PAD_Y) // CELL_LEADING)
                if room < min(total - start, 3) or (start == 0 and total <= self._page_capacity() and room < total):
                    self._new_page()
                    self._header_row()
                    continue
                count = min(room, total - start)
                self._draw_lines(cells, start, count)
                start += count
            n += 1
            if progress and n % every == 0:
                progress(n)
        self._close_table_segment()
        self._table_open = False
        self.y -= 2 * MM
        return n

    def _page_capacity(self) -> int:
        """Lines a row may have and still fit on one page below the header row."""
        return int((self.top - self.bottom - 4 * PAD_Y - 2 * CELL_LEADING) // CELL_LEADING)

    # --- the end --------------------------------------------------------------------------------------

    def finish(self) -> tuple[bytes, str]:
        """Define the forms every page refers to (page total, content hash) and write the file.
        Returns (pdf bytes, content SHA-256)."""
        c = self.c
        digest = self.sha.hexdigest()
        c.showPage()
        self._pack_last_page()
        c.beginForm("qmsPageTotal", 0, -4, 60 * MM, 12)
        c.setFont(self.sans, 8)
        c.setFillColorRGB(*MUTED)
        c.drawString(0, 0, f"{self.pages}{self._after_total}")
        c.endForm()
        c.beginForm("qmsContentSha", 0, -4, 160 * MM, 10)
        c.setFont(self.mono, 6)
        c.setFillColorRGB(*MUTED)
        c.drawString(0, 0, digest)
        c.endForm()
        c.save()
        return self.out.getvalue(), digest
