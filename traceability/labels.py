"""Label graphics: QR code (segno) and Code 128 (python-barcode) as inline SVG, without style
attributes (the CSP forbids inline styles), ready to print."""

from __future__ import annotations

import io
import re

_STYLE_FILL = re.compile(r'style="fill:\s*([a-z#0-9]+);?"')
_PROLOG = re.compile(r"<\?xml[^>]*>|<!DOCTYPE[^>]*>|<!--.*?-->", re.S)


def qr_svg(data: str, *, scale: int = 4, title: str = "") -> str:
    import segno

    buf = io.BytesIO()
    segno.make(data, error="m").save(
        buf, kind="svg", xmldecl=False, svgns=True, scale=scale, border=2, title=title or None, svgclass="qr"
    )
    return buf.getvalue().decode("utf-8")


def code128_svg(data: str) -> str:
    import barcode
    from barcode.writer import SVGWriter

    buf = io.BytesIO()
    code = barcode.get("code128", data, writer=SVGWriter())
    code.write(buf, options={"write_text": False, "module_height": 12.0, "module_width": 0.25, "quiet_zone": 2.0})
    svg = _PROLOG.sub("", buf.getvalue().decode("utf-8"))
    svg = _STYLE_FILL.sub(r'fill="\1"', svg)
    return svg.replace("<svg ", '<svg class="code128" ', 1).strip()
