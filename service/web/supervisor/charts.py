"""Charts as inline SVG made on the server: no script and no chart library to fetch.

Plain presentation attributes only (no style attributes), so the pages' CSP can forbid inline
styles; every chart carries a title and a table-like text alternative for screen readers.
"""

from markupsafe import Markup, escape

BAR_COLOURS = ("#3b6ea5", "#7aa974", "#c9a227", "#b5524a")
_TEXT = "#333"


def _svg(width: int, height: int, title: str, body: list[str]) -> Markup:
    return Markup(
        f'<svg viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg" '
        f'font-family="sans-serif" font-size="12"><title>{escape(title)}</title>'
        + "".join(body)
        + "</svg>"
    )


def grouped_bars(
    title: str, labels: list[str], series: list[tuple[str, list[int]]], height: int = 220
) -> Markup:
    """Bars per label, one per series (e.g. months × received/completed), with a legend."""
    groups, per = max(len(labels), 1), max(len(series), 1)
    width = max(360, 60 + groups * (per * 18 + 22))
    top, bottom, left = 28, height - 28, 36
    peak = max([v for _, values in series for v in values] + [1])
    scale = (bottom - top) / peak
    body = [
        f'<line x1="{left}" y1="{bottom}" x2="{width - 8}" y2="{bottom}" stroke="#999"/>',
        f'<text x="{left - 6}" y="{top + 4}" text-anchor="end" fill="{_TEXT}">{peak}</text>',
        f'<text x="{left - 6}" y="{bottom}" text-anchor="end" fill="{_TEXT}">0</text>',
    ]
    step = (width - left - 8) / groups
    for g, label in enumerate(labels):
        x0 = left + g * step + (step - per * 18) / 2
        for s, (name, values) in enumerate(series):
            value = values[g] if g < len(values) else 0
            h = value * scale
            x = x0 + s * 18
            body.append(
                f'<rect x="{x:.1f}" y="{bottom - h:.1f}" width="15" height="{h:.1f}" '
                f'fill="{BAR_COLOURS[s % len(BAR_COLOURS)]}"><title>{escape(label)} '
                f"{escape(name)}：{value}</title></rect>"
            )
            if value:
                body.append(
                    f'<text x="{x + 7.5:.1f}" y="{bottom - h - 3:.1f}" text-anchor="middle" '
                    f'font-size="10" fill="{_TEXT}">{value}</text>'
                )
        body.append(
            f'<text x="{left + g * step + step / 2:.1f}" y="{bottom + 16}" text-anchor="middle" '
            f'fill="{_TEXT}">{escape(label)}</text>'
        )
    for s, (name, _values) in enumerate(series):
        x = left + s * 90
        body.append(
            f'<rect x="{x}" y="6" width="12" height="12" fill="{BAR_COLOURS[s % 4]}"/>'
            f'<text x="{x + 16}" y="16" fill="{_TEXT}">{escape(name)}</text>'
        )
    return _svg(int(width), height, title, body)


def horizontal_bars(title: str, rows: list[tuple[str, int]], colour: str = "#3b6ea5") -> Markup:
    """One bar per row (e.g. rating levels), the value at its end."""
    width, label_w, row_h = 420, 90, 24
    height = 10 + row_h * max(len(rows), 1)
    peak = max([v for _, v in rows] + [1])
    span = width - label_w - 40
    body = []
    for i, (label, value) in enumerate(rows):
        y = 6 + i * row_h
        w = value / peak * span
        body.append(
            f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" fill="{_TEXT}">'
            f"{escape(label)}</text>"
            f'<rect x="{label_w}" y="{y + 3}" width="{w:.1f}" height="16" fill="{colour}"/>'
            f'<text x="{label_w + w + 4:.1f}" y="{y + 15}" fill="{_TEXT}">{value}</text>'
        )
    return _svg(width, height, title, body)
