"""Architecture drawings as backend-neutral primitives, rendered to plotly or to SVG.

The U-Net figure (paper 000 Fig. 5) and the stage DAGs (paper 004 Fig. 1/5) are built once as a
:class:`Drawing` (boxes, lines, curves, circles, text in data units, y up) from the layouts of
:mod:`nasga.results.report.data`; :func:`nasga.results.report.figures.drawing_figure` turns it into a plotly
figure for the report and :func:`to_svg` into a standalone SVG for the trial artifact that
optuna-dashboard shows. No plotting library is imported here.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field

from nasga.results.report.layout import StageLayout, UNetLayout

INPUT_COLOUR = "#d62728"  # paper 004 Fig. 1: default input node and its edges in red
OUTPUT_COLOUR = "#2ca02c"  # ... default output node and its edges in green
NODE_COLOUR = "#aec7e8"
EDGE_COLOUR = "#1f3b73"
SKIP_COLOUR = "#1f77b4"
REMOVED_COLOUR = "#9a9a9a"
ENCODER_FILL = "#dbe9f6"
DECODER_FILL = "#fde4c8"


@dataclass(frozen=True)
class Rect:
    x0: float
    y0: float
    x1: float
    y1: float
    fill: str
    line: str = "#333333"


@dataclass(frozen=True)
class Line:
    x0: float
    y0: float
    x1: float
    y1: float
    color: str
    width: float = 1.5
    dash: bool = False
    arrow: bool = False


@dataclass(frozen=True)
class Curve:
    """Quadratic Bézier from ``(x0, y0)`` to ``(x1, y1)`` with control point ``(cx, cy)``."""

    x0: float
    y0: float
    cx: float
    cy: float
    x1: float
    y1: float
    color: str
    width: float = 1.5
    arrow: bool = True


@dataclass(frozen=True)
class Circle:
    cx: float
    cy: float
    r: float
    fill: str
    line: str = "#333333"


@dataclass(frozen=True)
class Text:
    x: float
    y: float
    text: str
    size: int = 11
    color: str = "#111111"
    anchor: str = "middle"  # "start", "middle" or "end"
    bold: bool = False


Item = Rect | Line | Curve | Circle | Text


@dataclass
class Drawing:
    """Primitives in data units (y up) with the box they fill."""

    items: list[Item] = field(default_factory=list)

    def add(self, *items: Item) -> None:
        self.items.extend(items)

    def bounds(self, margin: float = 0.4) -> tuple[float, float, float, float]:
        xs: list[float] = []
        ys: list[float] = []
        for it in self.items:
            if isinstance(it, Rect):
                xs += [it.x0, it.x1]
                ys += [it.y0, it.y1]
            elif isinstance(it, (Line, Curve)):
                xs += [it.x0, it.x1]
                ys += [it.y0, it.y1]
            elif isinstance(it, Circle):
                xs += [it.cx - it.r, it.cx + it.r]
                ys += [it.cy - it.r, it.cy + it.r]
            else:
                half = 0.045 * len(it.text) * it.size / 11
                shift = {"start": 0.0, "end": 2 * half}.get(it.anchor, half)
                lo = it.x - shift
                xs += [lo, lo + 2 * half]
                ys += [it.y - 0.15, it.y + 0.15]
        if not xs:
            return (0.0, 1.0, 0.0, 1.0)
        return (min(xs) - margin, max(xs) + margin, min(ys) - margin, max(ys) + margin)


# --- U-Net (paper 000 Fig. 5) ------------------------------------------------------------------

BOX_W, BOX_H, COL_GAP = 1.7, 0.56, 1.6


def draw_unet(drawing: Drawing, layout: UNetLayout, *, x: float, title: str) -> float:
    """Draw one U-Net as a U: encoder column on the left, decoder column on the right.

    Each box reads ``in → out`` channels (paper 000 Fig. 5); a kept skip is a solid line
    between the mirrored layers, a removed one dashed and grey. Returns the right edge.
    """
    ex, dx = x + BOX_W / 2 + 0.55, x + BOX_W * 1.5 + COL_GAP + 0.55
    top = 0.9
    drawing.add(Text((ex + dx) / 2, top + 0.55, title, size=13, bold=True),
                Text((ex + dx) / 2, top + 0.2, layout.genome, size=10, color="#444444"))
    depth = len(layout.encoder)
    for i, (enc, dec) in enumerate(zip(layout.encoder, layout.decoder)):
        y = -i
        for box, cx, fill in ((enc, ex, ENCODER_FILL), (dec, dx, DECODER_FILL)):
            drawing.add(Rect(cx - BOX_W / 2, y - BOX_H / 2, cx + BOX_W / 2, y + BOX_H / 2, fill),
                        Text(cx, y, f"{box.in_channels} → {box.out_channels}", size=11))
        if enc.size:
            drawing.add(Text(ex - BOX_W / 2 - 0.08, y, f"{enc.size}²", size=9, color="#666666",
                             anchor="end"))
        if i < depth - 1:
            drawing.add(Line(ex, y - BOX_H / 2, ex, y - 1 + BOX_H / 2, EDGE_COLOUR, arrow=True),
                        Line(dx, y - 1 + BOX_H / 2, dx, y - BOX_H / 2, EDGE_COLOUR, arrow=True))
            skip = layout.skips[i]
            colour = SKIP_COLOUR if skip.kept else REMOVED_COLOUR
            drawing.add(Line(ex + BOX_W / 2, y + 0.08, dx - BOX_W / 2, y + 0.08, colour,
                             width=2.0 if skip.kept else 1.2, dash=not skip.kept,
                             arrow=skip.kept),
                        Text((ex + dx) / 2, y + 0.22,
                             f"skip {i}: +{skip.channels}" if skip.kept else f"skip {i} removed",
                             size=9, color=colour))
        else:
            drawing.add(Line(ex + BOX_W / 2, y, dx - BOX_W / 2, y, EDGE_COLOUR, arrow=True))
    drawing.add(Text(ex, top - 0.25, "encoder (conv 4×4/2)", size=10, color="#555555"),
                Text(dx, top - 0.25, "decoder (deconv 4×4/2)", size=10, color="#555555"))
    return dx + BOX_W / 2


def unet_drawing(best: UNetLayout, reference: UNetLayout | None = None, *,
                 best_title: str = "best genome",
                 reference_title: str = "pix2pix reference") -> Drawing:
    """The best genome's U-Net beside the pix2pix reference layout (paper 000 Fig. 5)."""
    d = Drawing()
    right = draw_unet(d, best, x=0.0, title=best_title)
    if reference is not None:
        draw_unet(d, reference, x=right + 1.0, title=reference_title)
    return d


# --- Genetic-CNN stages (paper 004 Fig. 1 / 5) -------------------------------------------------

NODE_R, STAGE_GAP = 0.26, 1.4
_NODE_FILL = {"input": INPUT_COLOUR, "output": OUTPUT_COLOUR, "ordinary": NODE_COLOUR,
              "isolated": "#eeeeee", "single": "#c5b0d5"}
_EDGE_COLOUR = {"input": INPUT_COLOUR, "output": OUTPUT_COLOUR, "encoded": EDGE_COLOUR}


def _shorten(x0: float, y0: float, x1: float, y1: float, r0: float, r1: float
             ) -> tuple[float, float, float, float]:
    length = ((x1 - x0) ** 2 + (y1 - y0) ** 2) ** 0.5 or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    return x0 + ux * r0, y0 + uy * r0, x1 - ux * r1, y1 - uy * r1


def _clear(points: list[tuple[float, float]], others: list[tuple[float, float]]) -> bool:
    gap = NODE_R + 0.08
    return all(math.hypot(px - ox, py - oy) > gap for px, py in points for ox, oy in others)


def _bend(x0: float, y0: float, x1: float, y1: float, others: list[tuple[float, float]]
          ) -> tuple[float, float] | None:
    """``None`` if the straight edge clears every other node, else a Bézier control point."""
    def along(cx: float, cy: float) -> list[tuple[float, float]]:
        ts = [i / 24 for i in range(1, 24)]
        return [((1 - t) ** 2 * x0 + 2 * t * (1 - t) * cx + t * t * x1,
                 (1 - t) ** 2 * y0 + 2 * t * (1 - t) * cy + t * t * y1) for t in ts]

    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    if _clear(along(mx, my), others):
        return None
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    nx, ny = -(y1 - y0) / length, (x1 - x0) / length  # unit normal (upwards for a rightward edge)
    for k in (0.9, -0.9, 1.3, -1.3, 1.8, -1.8, 2.4, -2.4):
        c = (mx + k * nx, my + k * ny)
        if _clear(along(*c), others):
            return c
    return (mx + 2.4 * nx, my + 2.4 * ny)


def draw_stage(drawing: Drawing, stage: StageLayout, *, x: float) -> float:
    """Draw one stage's DAG starting at column ``x``; returns its right edge."""
    pos = {n.name: (x + n.x, n.y) for n in stage.nodes}
    kind = {n.name: n.kind for n in stage.nodes}
    right = max(p[0] for p in pos.values())
    top = max(p[1] for p in pos.values())
    for e in stage.edges:
        (x0, y0), (x1, y1) = pos[e.source], pos[e.target]
        colour = _EDGE_COLOUR[e.kind]
        others = [p for n, p in pos.items()
                  if n not in (e.source, e.target) and kind[n] != "isolated"]
        bend = _bend(x0, y0, x1, y1, others)
        if bend is None:
            drawing.add(Line(*_shorten(x0, y0, x1, y1, NODE_R, NODE_R), colour, arrow=True))
        else:  # a straight edge would cross another node: bend it around
            cx, cy = bend
            a0, b0, _, _ = _shorten(x0, y0, cx, cy, NODE_R, 0)
            _, _, a1, b1 = _shorten(cx, cy, x1, y1, 0, NODE_R)
            drawing.add(Curve(a0, b0, cx, cy, a1, b1, colour))
            top = max(top, (y0 + 2 * cy + y1) / 4)  # the curve's height half-way
    top += 0.75
    label = stage.bits or "(no bits)"
    drawing.add(Text((x + right) / 2, top, f"Stage {stage.stage}: {label}", size=12, bold=True))
    if stage.is_empty:
        drawing.add(Text((x + right) / 2, top - 0.3, "all zero: one convolution", size=9,
                         color="#555555"))
    for n in stage.nodes:
        px, py = pos[n.name]
        drawing.add(Circle(px, py, NODE_R, _NODE_FILL[n.kind],
                           line="#aaaaaa" if n.kind == "isolated" else "#333333"),
                    Text(px, py, n.name, size=10,
                         color="#ffffff" if n.kind in ("input", "output") else "#111111"))
    return right


def stages_drawing(stages: list[StageLayout], *, title: str | None = None) -> Drawing:
    """All stages left to right with a pooling arrow between them (paper 004 Fig. 1)."""
    d = Drawing()
    x = 0.0
    for i, stage in enumerate(stages):
        right = draw_stage(d, stage, x=x)
        if i < len(stages) - 1:
            d.add(Line(right + NODE_R + 0.1, 0.0, right + STAGE_GAP - NODE_R - 0.1, 0.0,
                       "#777777", arrow=True),
                  Text(right + STAGE_GAP / 2, -0.28, "pool", size=9, color="#777777"))
        x = right + STAGE_GAP
    if title:
        x0, x1, _, y1 = d.bounds(0.0)
        d.add(Text((x0 + x1) / 2, y1 + 0.45, title, size=13, bold=True))
    return d


# --- SVG -----------------------------------------------------------------------------------------


def to_svg(drawing: Drawing, *, scale: float = 60.0, title: str = "") -> str:
    """A standalone SVG document of ``drawing`` (``scale`` pixels per data unit)."""
    x0, x1, y0, y1 = drawing.bounds()
    w, h = (x1 - x0) * scale, (y1 - y0) * scale

    def X(v: float) -> float:
        return round((v - x0) * scale, 2)

    def Y(v: float) -> float:
        return round((y1 - v) * scale, 2)

    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" '
           f'viewBox="0 0 {w:.0f} {h:.0f}" font-family="Helvetica, Arial, sans-serif">']
    if title:
        out.append(f"<title>{html.escape(title)}</title>")
    colours = sorted({it.color for it in drawing.items
                      if isinstance(it, (Line, Curve)) and it.arrow})
    out.append("<defs>")
    for i, c in enumerate(colours):
        out.append(f'<marker id="arrow{i}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="9" '
                   f'markerHeight="9" markerUnits="userSpaceOnUse" orient="auto-start-reverse">'
                   f'<path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>')
    out.append('</defs><rect width="100%" height="100%" fill="white"/>')
    marker = {c: f' marker-end="url(#arrow{i})"' for i, c in enumerate(colours)}
    for it in drawing.items:
        if isinstance(it, Rect):
            out.append(f'<rect x="{X(it.x0)}" y="{Y(it.y1)}" width="{X(it.x1) - X(it.x0)}" '
                       f'height="{Y(it.y0) - Y(it.y1)}" rx="4" fill="{it.fill}" '
                       f'stroke="{it.line}"/>')
        elif isinstance(it, Line):
            dash = ' stroke-dasharray="6,4"' if it.dash else ""
            end = marker[it.color] if it.arrow else ""
            out.append(f'<line x1="{X(it.x0)}" y1="{Y(it.y0)}" x2="{X(it.x1)}" y2="{Y(it.y1)}" '
                       f'stroke="{it.color}" stroke-width="{it.width}"{dash}{end}/>')
        elif isinstance(it, Curve):
            end = marker[it.color] if it.arrow else ""
            out.append(f'<path d="M{X(it.x0)},{Y(it.y0)} Q{X(it.cx)},{Y(it.cy)} '
                       f'{X(it.x1)},{Y(it.y1)}" fill="none" stroke="{it.color}" '
                       f'stroke-width="{it.width}"{end}/>')
        elif isinstance(it, Circle):
            out.append(f'<circle cx="{X(it.cx)}" cy="{Y(it.cy)}" r="{it.r * scale:.2f}" '
                       f'fill="{it.fill}" stroke="{it.line}"/>')
        else:
            weight = ' font-weight="bold"' if it.bold else ""
            out.append(f'<text x="{X(it.x)}" y="{Y(it.y)}" font-size="{it.size + 1}" '
                       f'fill="{it.color}" text-anchor="{it.anchor}" '
                       f'dominant-baseline="central"{weight}>{html.escape(it.text)}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


__all__ = ["Circle", "Curve", "Drawing", "Line", "Rect", "Text", "stages_drawing", "to_svg",
           "unet_drawing"]
