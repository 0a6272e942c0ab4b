"""A :class:`~convlint.render.animate.scene.Scene` as one animated SVG file (no dependency).

Shapes visible in every frame are drawn once; the others are grouped by the frames they are
visible in, and each group switches its ``visibility`` with a discrete SMIL ``<animate>`` on one
shared clock (``frames × frame_ms``), so the file stays small and crisp at any zoom.  Without
SMIL (a static viewer), the groups visible in the last frame show: the finished picture.
"""
from __future__ import annotations

from itertools import groupby
from xml.sax.saxutils import escape, quoteattr

from convlint.render.animate.scene import Rect, Scene, Text

FONT_FAMILY = "DejaVu Sans, Verdana, Arial, sans-serif"


def _number(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _shape(shape: Rect | Text) -> str:
    if isinstance(shape, Rect):
        style = [f'x="{_number(shape.x)}" y="{_number(shape.y)}" width="{_number(shape.w)}" height="{_number(shape.h)}"',
                 f'fill="{shape.fill or "none"}"']
        if shape.stroke:
            style.append(f'stroke="{shape.stroke}" stroke-width="{_number(shape.width)}"')
            if shape.dashed:
                style.append('stroke-dasharray="3 2"')
        return f"<rect {' '.join(style)}/>"
    anchor = ' text-anchor="middle"' if shape.anchor == "middle" else ""
    weight = ' font-weight="bold"' if shape.bold else ""
    return (f'<text x="{_number(shape.x)}" y="{_number(shape.y)}" font-size="{shape.size}" fill="{shape.fill}"'
            f'{anchor}{weight}>{escape(shape.text)}</text>')


def _switch(first: int, last: int, frames: int, duration: str) -> str:
    """A discrete visibility animation: visible from frame ``first`` to ``last − 1`` of ``frames``."""
    values, times = [], []
    if first > 0:
        values.append("hidden")
        times.append(0.0)
    values.append("visible")
    times.append(first / frames)
    if last < frames:
        values.append("hidden")
        times.append(last / frames)
    keys = ";".join(_number_time(t) for t in times)
    return (f'<animate attributeName="visibility" values="{";".join(values)}" keyTimes="{keys}" dur="{duration}" '
            f'calcMode="discrete" repeatCount="indefinite"/>')


def _number_time(value: float) -> str:
    return f"{value:.6f}".rstrip("0").rstrip(".") or "0"


def scene_svg(scene: Scene, frame_ms: int, title: str = "") -> bytes:
    """The SVG document of ``scene``, each frame shown for ``frame_ms`` milliseconds, as UTF-8 bytes."""
    duration = f"{_number(scene.frames * frame_ms / 1000)}s"
    lines = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{scene.width}" height="{scene.height}" '
             f'viewBox="0 0 {scene.width} {scene.height}" font-family={quoteattr(FONT_FAMILY)}>']
    if title:
        lines.append(f"<title>{escape(title)}</title>")
    lines.append('<rect width="100%" height="100%" fill="#ffffff"/>')
    for (first, last), items in groupby(scene.items, key=lambda item: (item.first, item.last)):
        shapes = [_shape(item.shape) for item in items]
        if first == 0 and last == scene.frames:
            lines.extend(shapes)
            continue
        shown = "visible" if last == scene.frames else "hidden"
        lines.append(f'<g visibility="{shown}">{_switch(first, last, scene.frames, duration)}')
        lines.extend(shapes)
        lines.append("</g>")
    lines.append("</svg>")
    return ("\n".join(lines) + "\n").encode("utf-8")
