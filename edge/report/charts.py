"""Charts as SVG drawn on the server: nothing to fetch, nothing to run in the browser, one file offline.

Each function returns an `<svg>` element as text, sized by its viewBox so that the page scales it.
Text is escaped; colours are the kiosk's outcome colours.
"""

from __future__ import annotations

from html import escape

OUTCOME_COLOURS = {"CLEAR": "#2e7d32", "REFER": "#ef6c00", "DENY": "#c62828"}
INK, GRID, BAR = "#263238", "#cfd8dc", "#1565c0"
_W, _H, _PAD = 640, 220, 40


def _svg(body: str, title: str, height: int = _H) -> str:
    """The chart with its title shown above it (and given to screen readers)."""
    return (f'<figure class="chart"><figcaption>{escape(title)}</figcaption>'
            f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {_W} {height}" role="img" '
            f'aria-label="{escape(title)}">{body}</svg>'
            '</figure>')


def _empty(title: str) -> str:
    return _svg(f'<text x="{_W / 2}" y="{_H / 2}" text-anchor="middle">no data in this period</text>', title)


def _axis(top: float, label_max: str) -> str:
    base = _H - _PAD
    return (f'<line x1="{_PAD}" y1="{base}" x2="{_W - 10}" y2="{base}" stroke="{INK}"/>'
            f'<line x1="{_PAD}" y1="{top}" x2="{_W - 10}" y2="{top}" stroke="{GRID}"/>'
            f'<text x="{_PAD - 4}" y="{top + 4}" text-anchor="end">{escape(label_max)}</text>'
            f'<text x="{_PAD - 4}" y="{base + 4}" text-anchor="end">0</text>')


def stacked_bars(title: str, labels: list[str], stacks: list[dict[str, int]]) -> str:
    """A time series: one bar per bucket, stacked by outcome."""
    if not stacks or not any(sum(s.values()) for s in stacks):
        return _empty(title)
    top, base = 20, _H - _PAD
    highest = max(sum(s.values()) for s in stacks)
    step = (_W - _PAD - 10) / len(stacks)
    parts = [_axis(top, str(highest))]
    for i, (label, stack) in enumerate(zip(labels, stacks, strict=True)):
        x, y = _PAD + i * step, float(base)
        for outcome, count in stack.items():
            height = (base - top) * count / highest
            y -= height
            parts.append(f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{max(step - 2, 1):.1f}" height="{height:.1f}" '
                         f'fill="{OUTCOME_COLOURS.get(outcome, BAR)}"><title>{escape(label)}: {count} '
                         f'{escape(outcome)}</title></rect>')
        if len(stacks) <= 24 or i % max(1, len(stacks) // 12) == 0:
            parts.append(f'<text x="{x + step / 2:.1f}" y="{base + 14}" text-anchor="middle">{escape(label)}</text>')
    legend = "".join(f'<rect x="{_PAD + 90 * i}" y="4" width="10" height="10" fill="{colour}"/>'
                     f'<text x="{_PAD + 14 + 90 * i}" y="13">{outcome}</text>'
                     for i, (outcome, colour) in enumerate(OUTCOME_COLOURS.items()))
    return _svg("".join(parts) + legend, title)


def histogram(title: str, bins: list[dict], unit: str = "") -> str:
    """Bars over value ranges (`from`, `to`, `count`)."""
    if not bins or not any(b["count"] for b in bins):
        return _empty(title)
    top, base = 20, _H - _PAD
    highest = max(b["count"] for b in bins)
    step = (_W - _PAD - 10) / len(bins)
    parts = [_axis(top, str(highest))]
    for i, b in enumerate(bins):
        height = (base - top) * b["count"] / highest
        parts.append(f'<rect x="{_PAD + i * step + 1:.1f}" y="{base - height:.1f}" width="{max(step - 2, 1):.1f}" '
                     f'height="{height:.1f}" fill="{BAR}"><title>{b["from"]}-{b["to"]}{escape(unit)}: '
                     f'{b["count"]}</title></rect>')
    parts.append(f'<text x="{_PAD}" y="{base + 14}">{bins[0]["from"]}{escape(unit)}</text>'
                 f'<text x="{_W - 10}" y="{base + 14}" text-anchor="end">{bins[-1]["to"]}{escape(unit)}</text>')
    return _svg("".join(parts), title)


def funnel(title: str, steps: list[tuple[str, int]]) -> str:
    """Horizontal bars, each as wide as its share of the first: arrived, decided, acted, passed."""
    if not steps or not steps[0][1]:
        return _empty(title)
    row = 34
    height = 12 + row * len(steps)
    first = steps[0][1]
    parts = []
    for i, (label, count) in enumerate(steps):
        width = (_W - 260) * count / first
        y = 8 + i * row
        parts.append(f'<text x="150" y="{y + 17}" text-anchor="end">{escape(label)}</text>'
                     f'<rect x="160" y="{y}" width="{width:.1f}" height="24" fill="{BAR}"/>'
                     f'<text x="{166 + width:.1f}" y="{y + 17}">{count} ({100 * count / first:.0f}%)</text>')
    return _svg("".join(parts), title, height)
