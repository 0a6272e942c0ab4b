"""Frames laid out as shapes in pixels: the one picture every writer draws.

A :class:`Scene` is a list of :class:`Item` s, each a :class:`Rect` or :class:`Text` visible in a
range of frames; items are drawn in list order (later ones on top).  Coordinates are pixels from the
top-left corner; text is placed by its baseline.  The layout (:func:`build_scene`): the title, the
input side on the left and the output side on the right, each grid with the tensor index of its
rows and columns, then the size arithmetic, notes, the current frame's text and a legend.
"""
from __future__ import annotations

from dataclasses import dataclass

from convlint.render.animate.frames import (BEYOND, CROPPED, EXTRA, GATHER, INPUT, OUTPUT, OUTPUT_PADDING,
                                            PADDING, ZERO, AxisFrames, Frames, combined_kind)
from convlint.render.draw import FINDING_FILL, FINDING_LINE

CELL = 26
"""Side of one grid cell, in pixels."""
MARGIN, PANEL_GAP, LABEL = 16, 56, 22
LINE_HEIGHT, FONT_SIZE, SMALL_SIZE, TITLE_SIZE = 19, 13, 9, 15
CHAR_WIDTH, BOLD_WIDTH = 0.6, 0.72
"""Estimated advance of one character, in font sizes, for the layout of text lines."""

GRID_LINE, TEXT, MUTED = "#5f6b7a", "#222222", "#5f6b7a"
CELL_STYLE = {  # kind → (fill, stroke, dashed)
    INPUT: ("#a6c8ea", GRID_LINE, False),
    PADDING: ("#ffffff", "#9aa5b1", True),
    ZERO: ("#f1f4f7", "#9aa5b1", True),
    OUTPUT_PADDING: ("#ece3f6", "#7b5ea7", True),
    BEYOND: ("#ffffff", "#e07b00", True),
    CROPPED: ("#e6e6e6", "#9aa5b1", True),
    OUTPUT: ("#ffffff", GRID_LINE, False),
    EXTRA: ("#ffffff", "#e07b00", True),
}
LEGEND = {
    INPUT: "input", PADDING: "padding", ZERO: "inserted zero", BEYOND: "past the padding (ceil_mode)",
    CROPPED: "cut by padding", EXTRA: "ceil_mode window", OUTPUT_PADDING: "output_padding",
}
TAP_REAL, TAP_OTHER, FOOTPRINT = "#1f5f9e", "#86aed6", "#0b2f55"
"""Gather view: a tap on a real input cell, on padding or an inserted zero, and the footprint's outline."""
STAMP, STAMP_CUT = "#8fbde8", "#c5cdd6"
"""Scatter view: a tap stamped on an output cell (light, so the stamp count stays legible), on a cut one."""
DONE, CURRENT = "#a8d5ba", "#2e8b57"
UNREAD = "never read"


MAX_DRAWN_CELLS = 400
"""Most canvas cells drawn along one axis (a wide stride or kernel can need many even for few outputs)."""


class TooLargeToDraw(ValueError):
    """The frames chosen need more than :data:`MAX_DRAWN_CELLS` canvas cells along an axis."""


@dataclass(frozen=True)
class Rect:
    """A rectangle: top-left ``(x, y)``, size ``w`` × ``h``; ``fill``/``stroke`` colours or ``None``."""

    x: float
    y: float
    w: float
    h: float
    fill: str | None
    stroke: str | None = None
    width: float = 1.0
    dashed: bool = False


@dataclass(frozen=True)
class Text:
    """A line of text with its baseline at ``y``, starting (``anchor="start"``) or centred at ``x``."""

    x: float
    y: float
    text: str
    size: int = FONT_SIZE
    fill: str = TEXT
    anchor: str = "start"
    bold: bool = False


@dataclass(frozen=True)
class Item:
    """A shape visible in frames ``first`` to ``last − 1``."""

    shape: Rect | Text
    first: int
    last: int


@dataclass
class Scene:
    """``frames`` frames of ``width`` × ``height`` pixels, drawn from ``items``."""

    width: int
    height: int
    frames: int
    items: list[Item]

    def visible(self, frame: int) -> list[Rect | Text]:
        """The shapes of ``frame``, in drawing order."""
        return [item.shape for item in self.items if item.first <= frame < item.last]


class Track:
    """Where the shown cells of one axis are drawn: cell → offset in cells from the grid's start,
    with one empty cell (marked ``⋯``) where the shown cells skip some."""

    def __init__(self, shown: list[int]):
        self.offset: dict[int, int] = {}
        self.gaps: list[int] = []
        position = 0
        for previous, cell in zip([None, *shown], shown):
            if previous is not None and cell != previous + 1:
                self.gaps.append(position)
                position += 1
            self.offset[cell] = position
            position += 1
        self.length = position


def shown_frames(cells: int, limit: int) -> list[int]:
    """Frame positions drawn along an axis of ``cells``: all of them, or the first and last
    ``limit // 2`` (the first gets the odd one) when there are more than ``limit``."""
    if cells <= limit:
        return list(range(cells))
    head = (limit + 1) // 2
    return list(range(head)) + list(range(cells - (limit - head), cells))


def shown_canvas(axis: AxisFrames, frames: list[int]) -> list[int]:
    """Canvas cells drawn along ``axis`` when only ``frames`` are: everything up to the last cell the
    leading frames touch and from the first cell the trailing frames touch (all of it when
    ``frames`` has no gap)."""
    size = len(axis.canvas)
    if frames == list(range(axis.cells)):
        return list(range(size))
    split = next(n for n, (a, b) in enumerate(zip(frames, frames[1:]), 1) if b != a + 1)
    head_end = max(max(axis.taps[f]) for f in frames[:split])
    tail_start = min(min(axis.taps[f]) for f in frames[split:])
    return sorted(set(range(head_end + 1)) | set(range(tail_start, size)))


def spans(indices) -> str:
    """``[1, 2, 3, 5]`` → ``"1–3, 5"``."""
    parts, values = [], sorted(set(indices))
    start = previous = None
    for value in values + [None]:
        if value is not None and previous is not None and value == previous + 1:
            previous = value
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}–{previous}")
        start = previous = value
    return ", ".join(parts)


def text_width(text: str, size: int = FONT_SIZE, bold: bool = False) -> float:
    """Estimated width of ``text`` in pixels (for the layout only)."""
    return len(text) * size * (BOLD_WIDTH if bold else CHAR_WIDTH)


@dataclass(frozen=True)
class Labels:
    """The words of a scene: ``title``, the titles of the canvas and frame panels, and extra
    caption ``notes``."""

    title: str
    canvas_title: str
    frames_title: str
    notes: tuple[str, ...] = ()
    unread_code: str | None = None
    """The rule code shown beside the never-read input (``S001``) when the linter reports one."""


class _Builder:
    def __init__(self, frames: Frames, limit: int):
        self.frames = frames
        self.items: list[Item] = []
        self.row_frames = shown_frames(frames.rows.cells, limit)
        self.column_frames = shown_frames(frames.columns.cells, limit)
        self.order = [(r, c) for r in self.row_frames for c in self.column_frames]
        self.count = len(self.order)
        self.canvas_rows = Track(shown_canvas(frames.rows, self.row_frames))
        self.canvas_columns = Track(shown_canvas(frames.columns, self.column_frames))
        for track in (self.canvas_rows, self.canvas_columns):
            if track.length > MAX_DRAWN_CELLS:
                raise TooLargeToDraw(f"the {limit} output cells drawn per axis cover {track.length} input cells, more "
                                     f"than {MAX_DRAWN_CELLS}; draw fewer with --max-cells")
        self.frame_rows, self.frame_columns = Track(self.row_frames), Track(self.column_frames)

    def add(self, shape, first: int = 0, last: int | None = None) -> None:
        last = self.count if last is None else last
        if first < last:
            self.items.append(Item(shape, first, last))

    def grid(self, x0: float, y0: float, rows: Track, columns: Track, row_index, column_index, cells: dict) -> None:
        """Index labels, gap marks and the static cells of one panel; ``cells`` maps
        (row, column) → kind; ``row_index``/``column_index`` give the tensor index a row or column
        holds (``None``: no label; ``row_index`` is ``None`` for a 1-D layer)."""
        for (row, column), kind in cells.items():
            fill, stroke, dashed = CELL_STYLE[kind]
            self.add(Rect(x0 + columns.offset[column] * CELL, y0 + rows.offset[row] * CELL, CELL, CELL,
                          fill, stroke, 1.0, dashed))
        for gap in columns.gaps:
            self.add(Text(x0 + (gap + 0.5) * CELL, y0 - 4, "⋯", FONT_SIZE, MUTED, "middle"))
        for gap in rows.gaps:
            self.add(Text(x0 - 10, y0 + (gap + 0.5) * CELL + 4, "⋮", FONT_SIZE, MUTED, "middle"))
        for column, offset in columns.offset.items():
            index = column_index(column)
            if index is not None:
                self.add(Text(x0 + (offset + 0.5) * CELL, y0 - 4, str(index), SMALL_SIZE, MUTED, "middle"))
        if row_index is not None:
            for row, offset in rows.offset.items():
                index = row_index(row)
                if index is not None:
                    self.add(Text(x0 - 4 - text_width(str(index), SMALL_SIZE), y0 + (offset + 0.5) * CELL + 3,
                                  str(index), SMALL_SIZE, MUTED))


def _frame_text(frames: Frames, row: int, column: int) -> str:
    """What frame (row, column) computes, in words."""
    two_d = frames.spatial == 2
    where = f"[{row}, {column}]" if two_d else f"[{column}]"
    if frames.view == GATHER:
        read = frames.touched_elements(row, column, INPUT)
        if not read:
            return f"out{where} reads only padding"
        rows, columns = spans(r for r, _ in read), spans(c for _, c in read)
        return f"out{where} ← input rows {rows}, columns {columns}" if two_d else f"out{where} ← input {columns}"
    written = frames.touched_elements(row, column, OUTPUT)
    if not written:
        return f"in{where} stamps only cells cut by padding"
    rows, columns = spans(r for r, _ in written), spans(c for _, c in written)
    return (f"in{where} → output rows {rows}, columns {columns}" if two_d else f"in{where} → output {columns}")


def build_scene(frames: Frames, labels: Labels, limit: int = 8) -> Scene:
    """Lay out ``frames`` with ``labels``; at most ``limit`` frame positions per axis are drawn (the
    first and last ones, a ``⋯`` between), so a 128×128 layer gives 64 frames, not 16 384."""
    b = _Builder(frames, limit)
    rows_axis, columns_axis = frames.rows, frames.columns
    two_d = frames.spatial == 2
    gather = frames.view == GATHER
    top = MARGIN + TITLE_SIZE + 12 + FONT_SIZE + 8 + (SMALL_SIZE + 6)
    canvas_size = (b.canvas_columns.length * CELL, b.canvas_rows.length * CELL)
    frame_size = (b.frame_columns.length * CELL, b.frame_rows.length * CELL)
    left_size, right_size = (canvas_size, frame_size) if gather else (frame_size, canvas_size)
    left_x = MARGIN + (LABEL if two_d else 0)
    right_x = left_x + left_size[0] + PANEL_GAP + (LABEL if two_d else 0)
    canvas_x, frame_x = (left_x, right_x) if gather else (right_x, left_x)
    grid_bottom = top + max(left_size[1], right_size[1])

    b.add(Text(MARGIN, MARGIN + TITLE_SIZE, labels.title, TITLE_SIZE, TEXT, bold=True))
    panel_title_y = MARGIN + TITLE_SIZE + 12 + FONT_SIZE
    titles = (labels.canvas_title, labels.frames_title) if gather else (labels.frames_title, labels.canvas_title)
    b.add(Text(left_x, panel_title_y, titles[0]))
    b.add(Text(right_x, panel_title_y, titles[1]))
    b.add(Text(left_x + left_size[0] + PANEL_GAP / 2, top + min(left_size[1], right_size[1]) / 2 + 5, "→",
               FONT_SIZE + 4, MUTED, "middle"))

    # the canvas, with never-read input in the finding's colour
    unread_rows = set(rows_axis.never_touched(INPUT)) if gather else set()
    unread_columns = set(columns_axis.never_touched(INPUT)) if gather else set()
    canvas_cells = {(r, c): combined_kind(rows_axis.canvas[r], columns_axis.canvas[c])
                    for r in b.canvas_rows.offset for c in b.canvas_columns.offset}
    b.grid(canvas_x, top, b.canvas_rows, b.canvas_columns, rows_axis.index.__getitem__ if two_d else None,
           columns_axis.index.__getitem__, canvas_cells)
    unread = [(r, c) for (r, c), kind in canvas_cells.items() if kind == INPUT and (r in unread_rows or c in unread_columns)]
    for r, c in unread:
        b.add(Rect(canvas_x + b.canvas_columns.offset[c] * CELL, top + b.canvas_rows.offset[r] * CELL, CELL, CELL,
                   FINDING_FILL, FINDING_LINE, 1.5))

    # the frame panel: static kinds, then each cell filled from its frame on
    frame_cells = {(r, c): combined_kind(rows_axis.frame_kinds[r], columns_axis.frame_kinds[c])
                   for r in b.row_frames for c in b.column_frames}
    b.grid(frame_x, top, b.frame_rows, b.frame_columns, int if two_d else None, int, frame_cells)

    def frame_rect(r: int, c: int, fill: str, stroke: str | None = None, width: float = 1.0, dashed=False) -> Rect:
        return Rect(frame_x + b.frame_columns.offset[c] * CELL, top + b.frame_rows.offset[r] * CELL, CELL, CELL,
                    fill, stroke, width, dashed)

    for number, (r, c) in enumerate(b.order):
        kind = frame_cells[(r, c)]
        b.add(frame_rect(r, c, DONE, CELL_STYLE[kind][1], 1.0, CELL_STYLE[kind][2]), number + 1)

    # caption: arithmetic and notes, then the frame in words (drawn with the frame), then a legend
    lines = [axis.caption for axis in ((rows_axis, columns_axis) if two_d else (columns_axis,))] + list(labels.notes)
    cut = [name for name, axis, shown in (("rows", rows_axis, b.row_frames), ("columns", columns_axis, b.column_frames))
           if len(shown) < axis.cells]
    if cut:
        lines.append(f"only the first and last {' and '.join(cut)} are drawn, {limit} at most per axis; "
                     f"⋯ marks the ones left out")
    if gather and (unread_rows or unread_columns):
        where = []
        if unread_rows:
            where.append(f"rows {spans(rows_axis.index[r] for r in unread_rows)}")
        if unread_columns:
            where.append(f"columns {spans(columns_axis.index[c] for c in unread_columns)}")
        lines.append(f"input {' and '.join(where) if two_d else where[-1].split(' ', 1)[1]} never read"
                     + (f" ({labels.unread_code})" if labels.unread_code else ""))
    frame_text_y = grid_bottom + 14 + LINE_HEIGHT * (len(lines) + 1)

    # scatter: how many stamps each output cell has summed so far
    stamps: dict[tuple[int, int], int] = {}
    counts: list[tuple[tuple[int, int], int, int, int]] = []  # (cell, count, first frame, last frame + 1)
    last_count: dict[tuple[int, int], tuple[int, int]] = {}  # cell → (count, since frame)
    for number, (r, c) in enumerate(b.order if not gather else ()):
        for cell in frames.touched(r, c):
            if cell in canvas_cells:
                stamps[cell] = stamps.get(cell, 0) + 1
        for cell, count in stamps.items():
            previous = last_count.get(cell)
            if previous is None or previous[0] != count:
                if previous is not None:
                    counts.append((cell, previous[0], previous[1], number))
                last_count[cell] = (count, number)
    for cell, (count, since) in last_count.items():
        counts.append((cell, count, since, b.count))

    for number, (r, c) in enumerate(b.order):
        touched = [cell for cell in frames.touched(r, c) if cell in canvas_cells]
        for tr, tc in touched:
            real = canvas_cells[(tr, tc)] == (INPUT if gather else OUTPUT) or (
                not gather and canvas_cells[(tr, tc)] == OUTPUT_PADDING)
            colour = (TAP_REAL if real else TAP_OTHER) if gather else (STAMP if real else STAMP_CUT)
            b.add(Rect(canvas_x + b.canvas_columns.offset[tc] * CELL + 3, top + b.canvas_rows.offset[tr] * CELL + 3,
                       CELL - 6, CELL - 6, colour), number, number + 1)
        if touched:
            rows_touched = [b.canvas_rows.offset[tr] for tr, _ in touched]
            columns_touched = [b.canvas_columns.offset[tc] for _, tc in touched]
            extra = frame_cells[(r, c)] == EXTRA
            b.add(Rect(canvas_x + min(columns_touched) * CELL, top + min(rows_touched) * CELL,
                       (max(columns_touched) - min(columns_touched) + 1) * CELL,
                       (max(rows_touched) - min(rows_touched) + 1) * CELL, None,
                       CELL_STYLE[EXTRA][1] if extra else FOOTPRINT, 2.5, extra), number, number + 1)
        b.add(frame_rect(r, c, CURRENT, FOOTPRINT, 2.5), number, number + 1)
        b.add(Text(MARGIN, frame_text_y, f"frame {number + 1}/{b.count}: {_frame_text(frames, r, c)}", FONT_SIZE,
                   CURRENT, bold=True), number, number + 1)

    for (tr, tc), count, since, until in counts:
        b.add(Text(canvas_x + (b.canvas_columns.offset[tc] + 0.5) * CELL, top + (b.canvas_rows.offset[tr] + 0.5) * CELL + 4,
                   str(count), SMALL_SIZE + 1, TEXT, "middle", bold=True), since, until)

    width = max(right_x + right_size[0] - MARGIN, max(text_width(labels.title, TITLE_SIZE, True), *(text_width(t) for t in lines)))
    y: float = grid_bottom + 14
    for line in lines:
        y += LINE_HEIGHT
        b.add(Text(MARGIN, y, line))
    y += LINE_HEIGHT
    width = max(width, max(text_width(f"frame {b.count}/{b.count}: {_frame_text(frames, r, c)}", FONT_SIZE, True)
                           for r, c in b.order))
    y = _legend(b, MARGIN, y + 10, set(canvas_cells.values()) | set(frame_cells.values()), bool(unread), gather,
                int(width))
    return Scene(int(width + 2 * MARGIN), int(y + MARGIN), b.count, b.items)


def _legend(b: _Builder, x0: float, y0: float, kinds: set[str], unread: bool, gather: bool, width: int) -> float:
    """Swatches for the kinds drawn, wrapped to ``width``; returns the bottom edge."""
    entries: list[tuple[tuple[str, str | None, bool], str]] = [(CELL_STYLE[kind], LEGEND[kind])
                                                               for kind in LEGEND if kind in kinds]
    if unread:
        entries.append(((FINDING_FILL, FINDING_LINE, False), UNREAD))
    entries.append(((TAP_REAL, None, False), "read") if gather else ((STAMP, None, False), "written"))
    entries.append(((DONE, GRID_LINE, False), "computed" if gather else "stamped"))
    x, y, size = x0, y0, 12
    for (fill, stroke, dashed), label in entries:
        step = size + 6 + text_width(label, SMALL_SIZE + 2) + 14
        if x + step > x0 + width and x > x0:
            x, y = x0, y + size + 8
        b.add(Rect(x, y, size, size, fill, stroke, 1.0, dashed))
        b.add(Text(x + size + 5, y + size - 2, label, SMALL_SIZE + 2, MUTED))
        x += step
    return y + size
