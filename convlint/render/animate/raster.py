"""A :class:`~convlint.render.animate.scene.Scene` as pixels: an animated GIF, or a PNG contact sheet
of every frame for print.  Needs Pillow (the ``images`` extra), imported when a picture is drawn.

Text uses DejaVu Sans when the system has it (it has ``⌊ ⌋ − ·``), else Pillow's own font.  The
output depends only on the scene, the timing and the font: the same command gives the same bytes.
"""
from __future__ import annotations

import io
from functools import lru_cache

from convlint.render.animate.scene import Rect, Scene, Text

DASH, GAP = 3, 2
"""Dashed outlines: pixels drawn, then skipped."""
SHEET_COLUMNS, SHEET_LINE = 4, "#c8ced6"
"""Frames per row of a contact sheet, and the colour of the line around each."""


class MissingPillow(ImportError):
    """Pillow is not installed; the message says how to get it."""


def _pillow():
    try:
        from PIL import Image, ImageDraw, ImageFont
    except ImportError:
        raise MissingPillow("GIF and PNG output need Pillow: pip install 'convlint[images]' "
                            "(an .svg output needs nothing)") from None
    return Image, ImageDraw, ImageFont


@lru_cache(maxsize=None)
def _font(size: int, bold: bool):
    _, _, ImageFont = _pillow()
    for name in (("DejaVuSans-Bold.ttf",) if bold else ()) + ("DejaVuSans.ttf",):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def _dashed_line(draw, start: tuple[float, float], end: tuple[float, float], colour: str, width: int) -> None:
    (x0, y0), (x1, y1) = start, end
    length = max(abs(x1 - x0), abs(y1 - y0))
    position = 0.0
    while position < length:
        stop = min(position + DASH, length)
        draw.line([(x0 + (x1 - x0) * position / length, y0 + (y1 - y0) * position / length),
                   (x0 + (x1 - x0) * stop / length, y0 + (y1 - y0) * stop / length)], fill=colour, width=width)
        position += DASH + GAP


def _draw(draw, shape: Rect | Text) -> None:
    if isinstance(shape, Text):
        anchor = "ms" if shape.anchor == "middle" else "ls"
        draw.text((shape.x, shape.y), shape.text, fill=shape.fill, font=_font(shape.size, shape.bold), anchor=anchor)
        return
    box = [shape.x, shape.y, shape.x + shape.w - 1, shape.y + shape.h - 1]
    width = max(1, round(shape.width))
    if shape.fill:
        draw.rectangle(box, fill=shape.fill)
    if not shape.stroke:
        return
    if not shape.dashed:
        draw.rectangle(box, outline=shape.stroke, width=width)
        return
    x0, y0, x1, y1 = box
    for start, end in (((x0, y0), (x1, y0)), ((x1, y0), (x1, y1)), ((x1, y1), (x0, y1)), ((x0, y1), (x0, y0))):
        _dashed_line(draw, start, end, shape.stroke, width)


def frame_image(scene: Scene, frame: int):
    """Frame ``frame`` of ``scene`` as an RGB ``PIL.Image``."""
    Image, ImageDraw, _ = _pillow()
    image = Image.new("RGB", (scene.width, scene.height), "white")
    draw = ImageDraw.Draw(image)
    for shape in scene.visible(frame):
        _draw(draw, shape)
    return image


def scene_gif(scene: Scene, frame_ms: int) -> bytes:
    """An animated GIF of ``scene`` (looping), each frame shown for ``frame_ms`` milliseconds."""
    Image, _, _ = _pillow()
    images = [frame_image(scene, frame) for frame in range(scene.frames)]
    # one palette for all frames, from the first and the last (between them they hold the colours drawn;
    # any other maps to the nearest): several times faster than quantising each frame on its own
    sample = Image.new("RGB", (scene.width, 2 * scene.height))
    sample.paste(images[0], (0, 0))
    sample.paste(images[-1], (0, scene.height))
    palette = sample.quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    frames = [image.quantize(palette=palette, dither=Image.Dither.NONE) for image in images]
    buffer = io.BytesIO()
    frames[0].save(buffer, format="GIF", save_all=True, append_images=frames[1:], duration=frame_ms, loop=0)
    return buffer.getvalue()


def scene_sheet(scene: Scene) -> bytes:
    """A PNG of every frame of ``scene``, :data:`SHEET_COLUMNS` to a row, in order."""
    Image, ImageDraw, _ = _pillow()
    columns = min(SHEET_COLUMNS, scene.frames)
    rows = -(-scene.frames // columns)
    sheet = Image.new("RGB", (columns * scene.width, rows * scene.height), "white")
    draw = ImageDraw.Draw(sheet)
    for frame in range(scene.frames):
        x, y = (frame % columns) * scene.width, (frame // columns) * scene.height
        sheet.paste(frame_image(scene, frame), (x, y))
        draw.rectangle([x, y, x + scene.width - 1, y + scene.height - 1], outline=SHEET_LINE)
    buffer = io.BytesIO()
    sheet.save(buffer, format="PNG")
    return buffer.getvalue()
