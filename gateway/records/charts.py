"""Charts for the learning reports, drawn on the server as inline SVG: nothing to load, nothing
to run in the browser, and they print as sharply as the text around them. Colours are SVG
attributes (the pages' Content-Security-Policy allows no inline styles)."""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

HEAT = ("#f3f4f6", "#fde7c8", "#fbc98e", "#f59e58", "#e0662c", "#b3341b", "#7a1a0d")
BAR = "#1d5fa8"


def _svg(kind: str, label: str, width: float, height: float, parts: list[str]) -> Markup:
    head = (f'<svg class="chart {kind}" role="img" aria-label="{escape(label)}" viewBox="0 0 {width} {height}" '
            f'width="{width}" height="{height}" xmlns="http://www.w3.org/2000/svg">')
    return Markup(head + "".join(parts) + "</svg>")  # noqa: S704 - every text in parts went through escape()


def heat_colour(count: int, highest: int) -> str:
    if count <= 0 or highest <= 0:
        return HEAT[0]
    return HEAT[min(len(HEAT) - 1, 1 + (count * (len(HEAT) - 1) - 1) // highest)]


def heatmap(grid: Sequence[Sequence[int]], days: Sequence[str], *, label: str, first_hour: int = 0,
            last_hour: int = 23) -> Markup:
    """Weekday rows, hour columns; each cell carries its count (data-count, and a tooltip)."""
    cell, left, top = 30, 38, 22
    hours = range(first_hour, last_hour + 1)
    width, height = left + cell * len(hours) + 4, top + cell * len(grid) + 4
    highest = max((n for row in grid for n in row), default=0)
    parts: list[str] = []
    for col, hour in enumerate(hours):
        parts.append(f'<text x="{left + col * cell + cell / 2}" y="{top - 7}" text-anchor="middle" '
                     f'font-size="11" fill="#444">{hour:02d}</text>')
    for day, row in enumerate(grid):
        y = top + day * cell
        parts.append(f'<text x="{left - 6}" y="{y + cell / 2 + 4}" text-anchor="end" font-size="12" '
                     f'fill="#222">{escape(days[day])}</text>')
        for col, hour in enumerate(hours):
            n = row[hour]
            parts.append(
                f'<rect class="cell" data-day="{day}" data-hour="{hour}" data-count="{n}" x="{left + col * cell}" '
                f'y="{y}" width="{cell - 2}" height="{cell - 2}" rx="3" fill="{heat_colour(n, highest)}">'
                f'<title>{escape(days[day])} {hour:02d}:00 – {n}</title></rect>')
            if n:
                colour = "#fff" if heat_colour(n, highest) in HEAT[4:] else "#222"
                parts.append(f'<text x="{left + col * cell + (cell - 2) / 2}" y="{y + cell / 2 + 3}" '
                             f'text-anchor="middle" font-size="11" fill="{colour}">{n}</text>')
    return _svg("heatmap", label, width, height, parts)


def bars(items: Sequence[tuple[str, int]], *, label: str, width: int = 540) -> Markup:
    """Horizontal bars with their labels and values."""
    row, text_width = 24, 270
    height = max(row, row * len(items)) + 4
    highest = max((n for _, n in items), default=0) or 1
    room = width - text_width - 50
    parts: list[str] = []
    for i, (name, n) in enumerate(items):
        y = i * row
        length = round(room * n / highest)
        parts.append(f'<text x="{text_width - 8}" y="{y + 16}" text-anchor="end" font-size="13" '
                     f'fill="#222">{escape(_clip(name))}</text>')
        parts.append(f'<rect data-label="{escape(name)}" data-value="{n}" x="{text_width}" y="{y + 4}" '
                     f'width="{max(length, 1 if n else 0)}" height="{row - 8}" rx="2" fill="{BAR}"/>')
        parts.append(f'<text x="{text_width + length + 6}" y="{y + 16}" font-size="13" fill="#222">{n}</text>')
    return _svg("bars", label, width, height, parts)


def columns(items: Sequence[tuple[str, int]], *, label: str, height: int = 160) -> Markup:
    """Vertical bars, for a trend over quarters."""
    col, bottom = 84, 22
    width = max(col, col * len(items)) + 4
    highest = max((n for _, n in items), default=0) or 1
    room = height - bottom - 18
    parts: list[str] = []
    for i, (name, n) in enumerate(items):
        x, length = i * col, round(room * n / highest)
        parts.append(f'<rect data-label="{escape(name)}" data-value="{n}" x="{x + 18}" y="{height - bottom - length}" '
                     f'width="{col - 36}" height="{length}" fill="{BAR}"/>')
        parts.append(f'<text x="{x + col / 2}" y="{height - bottom - length - 4}" text-anchor="middle" '
                     f'font-size="12" fill="#222">{n}</text>')
        parts.append(f'<text x="{x + col / 2}" y="{height - 6}" text-anchor="middle" font-size="12" '
                     f'fill="#444">{escape(name)}</text>')
    return _svg("columns", label, width, height, parts)


def _clip(text: str, limit: int = 32) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
