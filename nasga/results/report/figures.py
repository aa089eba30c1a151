"""Plotly figures of a search, each built from the pure data of :mod:`nasga.results.report.data`.

Titles name the paper figure or table each one reproduces; the HTML report
(:func:`nasga.results.report.write_report`) places them on one page.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Sequence
from typing import Any

import plotly.graph_objects as go

from nasga.results.report.data import (
    CostPoint, IsoFitnessLine, LineagePair, StageLayout, UNetLayout, pareto_front,
)
from nasga.results.report.drawing import (
    Circle, Curve, Drawing, Line, Rect, stages_drawing, unet_drawing,
)
from nasga.results.stats import GenerationStats

TITLES = {
    "table": "Per-generation statistics (paper 004, Table 1)",
    "generations": "Fitness per generation: mean with min/max band (paper 004, Fig. 3)",
    "lineage": "Parent vs child fitness by operator (paper 004, Fig. 4)",
    "loss_macs": "Validation loss vs MACs: Pareto front, iso-fitness lines (paper 000, eq. 7)",
    "unet": "Best U-Net vs pix2pix reference (paper 000, Fig. 5)",
    "stages": "Best genome's stages as DAGs (paper 004, Fig. 1 / Fig. 5)",
    "samples": "Validation samples of the best genome: input / output / target",
    "front": "Pareto front over generations: each generation's front and the final one",
    "front_table": "Pareto front: every member's means over its trainings",
    "member_stages": "Front member {i}'s stages as DAGs (paper 004, Fig. 1 / Fig. 5)",
    "member_unet": "Front member {i}'s U-Net vs pix2pix reference (paper 000, Fig. 5)",
    "member_samples": "Validation samples of front member {i}: input / output / target",
}
OPERATOR_COLOURS = {"crossover": "#d62728", "mutation": "#1f77b4", "copy": "#7f7f7f",
                    "elite": "#ff7f0e"}


def _fmt(value: float, percent: bool) -> str:
    return f"{100 * value:.2f}" if percent else f"{value:.4g}"


def rung_table_figure(rows: Sequence[Any], *, title: str = "Each trial's rung: the epochs "
                      "it trained and its last reported value") -> go.Figure:
    """A table of :func:`nasga.results.report.data.rung_rows`: trial, generation, state,
    epochs trained, last value, genome."""
    cells = [[str(r.trial) for r in rows],
             ["" if r.generation is None else f"{r.generation:02d}" for r in rows],
             [r.state for r in rows], [str(r.epochs) for r in rows],
             ["" if r.value is None else f"{r.value:.4f}" for r in rows],
             [r.genome for r in rows]]
    fig = go.Figure(go.Table(
        columnwidth=[50, 40, 80, 60, 70, 300],
        header={"values": ["Trial", "Gen", "State", "Epochs", "Last value", "Genome"],
                "fill_color": "#dbe9f6", "align": "center", "font": {"size": 12}},
        cells={"values": cells, "align": ["center"] * 5 + ["left"],
               "font": {"family": "monospace", "size": 12}, "height": 24},
    ))
    fig.update_layout(title=title, height=min(900, 130 + 26 * max(1, len(rows))),
                      margin={"l": 20, "r": 20, "t": 50, "b": 10})
    return fig


def generation_table_figure(rows: Sequence[GenerationStats], *, percent: bool = False,
                            title: str = TITLES["table"]) -> go.Figure:
    """Paper 004 Table 1 as a plotly table: Gen, Max, Min, Avg, Med, Std-D, best structure.

    Args:
        rows: :func:`nasga.results.report.data.generation_table`'s rows.
        percent: Show fitness in % (accuracy, as Table 1) rather than raw values.
    """
    unit = " %" if percent else ""
    header = ["Gen", f"Max{unit}", f"Min{unit}", f"Avg{unit}", f"Med{unit}", f"Std-D{unit}", "N",
              "Cached", "Best network structure"]
    cells = [
        [f"{r.generation:02d}" for r in rows],
        *[[_fmt(getattr(r, f), percent) for r in rows]
          for f in ("max", "min", "mean", "median", "std")],
        [str(r.n) for r in rows],
        [f"{r.cached_share:.0%}" for r in rows],
        [r.best_genome for r in rows],
    ]
    fig = go.Figure(go.Table(
        columnwidth=[40, 70, 70, 70, 70, 70, 40, 60, 300],
        header={"values": header, "fill_color": "#dbe9f6", "align": "center",
                "font": {"size": 12}},
        cells={"values": cells, "align": ["center"] * 8 + ["left"],
               "font": {"family": "monospace", "size": 12}, "height": 24},
    ))
    fig.update_layout(title=title, height=min(900, 130 + 26 * max(1, len(rows))),
                      margin={"l": 20, "r": 20, "t": 50, "b": 10})
    return fig


def generations_figure(rows: Sequence[GenerationStats], *, percent: bool = False,
                       title: str = TITLES["generations"]) -> go.Figure:
    """Paper 004 Fig. 3: mean fitness per generation with the min–max band and the median."""
    k = 100.0 if percent else 1.0
    gen = [r.generation for r in rows]
    fig = go.Figure([
        go.Scatter(x=gen, y=[k * r.max for r in rows], mode="lines", name="max",
                   line={"width": 0.5, "color": "#6baed6"}),
        go.Scatter(x=gen, y=[k * r.min for r in rows], mode="lines", name="min",
                   line={"width": 0.5, "color": "#6baed6"}, fill="tonexty",
                   fillcolor="rgba(107,174,214,0.25)"),
        go.Scatter(x=gen, y=[k * r.mean for r in rows], mode="lines+markers", name="mean",
                   line={"width": 2.5, "color": "#08519c"},
                   error_y={"type": "data", "symmetric": False,
                            "array": [k * (r.max - r.mean) for r in rows],
                            "arrayminus": [k * (r.mean - r.min) for r in rows],
                            "thickness": 1, "width": 4, "color": "#6baed6"}),
        go.Scatter(x=gen, y=[k * r.median for r in rows], mode="lines", name="median",
                   line={"width": 1.5, "dash": "dash", "color": "#fd8d3c"}),
    ])
    fig.update_layout(title=title, xaxis_title="generation",
                      yaxis_title="fitness (%)" if percent else "fitness", height=420,
                      xaxis={"dtick": 1 if len(gen) <= 20 else None})
    return fig


def lineage_figure(pairs: Sequence[LineagePair], *, title: str = TITLES["lineage"]) -> go.Figure:
    """Paper 004 Fig. 4: child fitness against the mean fitness of its parent(s), by operator.

    Points above the diagonal improved on their parents; the paper's claim is a positive
    correlation (good parents make good children).
    """
    fig = go.Figure()
    operators = sorted({p.operator for p in pairs}, key=lambda o: (o not in OPERATOR_COLOURS, o))
    for op in operators:
        sel = [p for p in pairs if p.operator == op]
        fig.add_trace(go.Scatter(
            x=[p.parent_mean for p in sel], y=[p.child_value for p in sel], mode="markers",
            name=f"{op} ({len(sel)})",
            marker={"size": 9, "opacity": 0.75, "color": OPERATOR_COLOURS.get(op)},
            text=[f"trial {p.child} (gen {p.generation})<br>parents "
                  f"{', '.join(map(str, p.parents))}<br>{p.genome}" for p in sel],
            hovertemplate="%{text}<br>parents %{x:.4g} → child %{y:.4g}<extra></extra>",
        ))
    values = [v for p in pairs for v in (p.parent_mean, p.child_value)]
    if values:
        lo, hi = min(values), max(values)
        fig.add_trace(go.Scatter(x=[lo, hi], y=[lo, hi], mode="lines", name="child = parents",
                                 line={"dash": "dot", "color": "#999999"}))
    fig.update_layout(title=title, xaxis_title="mean fitness of the parent(s)",
                      yaxis_title="fitness of the child", height=480)
    return fig


def loss_macs_figure(points: Sequence[CostPoint], lines: Sequence[IsoFitnessLine], *,
                     best_key: str | None = None, reference_key: str | None = None,
                     title: str = TITLES["loss_macs"]) -> go.Figure:
    """Validation ``L_Gen`` vs generator GMACs of every trained genome (paper 000 eq. 7/8).

    Marks the Pareto front (min loss, min MACs), the best genome, and the iso-fitness lines
    ``L_Gen = 1/f − γ·GMACs`` along which the fitness ``f`` is constant.
    """
    points = list(points)
    front = pareto_front(points)
    fig = go.Figure()
    for ln in lines:
        fig.add_trace(go.Scatter(
            x=list(ln.gmacs), y=list(ln.l_gen), mode="lines", line={"dash": "dot", "width": 1},
            name=f"fitness {ln.fitness:.4g} (γ = {ln.gamma:g})",
            hovertemplate=f"1/(L_Gen + {ln.gamma:g}·GMACs) = {ln.fitness:.4g}<extra></extra>",
        ))
    fig.add_trace(go.Scatter(
        x=[p.gmacs for p in points], y=[p.l_gen for p in points], mode="markers",
        name=f"trained genomes ({len(points)})",
        marker={"size": 8, "color": [p.fitness for p in points], "colorscale": "Viridis",
                "showscale": True, "colorbar": {"title": {"text": "fitness"}, "x": 1.02}},
        text=[f"{p.genome}<br>trials {', '.join(map(str, p.trials))}<br>fitness {p.fitness:.4g}"
              for p in points],
        hovertemplate="%{text}<br>%{x:.4g} GMACs, L_Gen %{y:.4g}<extra></extra>",
    ))
    fig.add_trace(go.Scatter(
        x=[p.gmacs for p in front], y=[p.l_gen for p in front], mode="lines+markers",
        name=f"Pareto front ({len(front)})", line={"shape": "hv", "color": "#d62728"},
        marker={"size": 11, "symbol": "circle-open", "color": "#d62728", "line": {"width": 2}},
        text=[p.genome for p in front], hovertemplate="%{text}<extra>Pareto</extra>",
    ))
    for key, label, symbol, colour in ((best_key, "best genome", "star", "#ff7f0e"),
                                       (reference_key, "pix2pix reference", "diamond", "#000")):
        sel = [p for p in points if key is not None and p.key == key]
        if sel:
            fig.add_trace(go.Scatter(
                x=[sel[0].gmacs], y=[sel[0].l_gen], mode="markers", name=label,
                marker={"size": 16, "symbol": symbol, "color": colour,
                        "line": {"width": 1, "color": "#000"}},
                text=[sel[0].genome], hovertemplate="%{text}<extra>" + label + "</extra>"))
    if points:
        ys = [p.l_gen for p in points]
        pad = 0.15 * (max(ys) - min(ys) or abs(max(ys)) or 1.0)
        fig.update_yaxes(range=[min(ys) - pad, max(ys) + pad])
        fig.update_xaxes(range=[0, 1.1 * max(p.gmacs for p in points)])
    fig.update_layout(title=title, xaxis_title="generator GMACs per image",
                      yaxis_title="validation L_Gen (eq. 8)", height=520,
                      legend={"orientation": "h", "y": -0.18})
    return fig


def drawing_figure(drawing: Drawing, *, title: str, px_per_unit: float = 62.0) -> go.Figure:
    """A :class:`~nasga.results.report.drawing.Drawing` as plotly shapes and annotations."""
    shapes: list[dict] = []
    notes: list[dict] = []
    for it in drawing.items:
        if isinstance(it, Rect):
            shapes.append({"type": "rect", "x0": it.x0, "y0": it.y0, "x1": it.x1, "y1": it.y1,
                           "fillcolor": it.fill, "line": {"color": it.line, "width": 1},
                           "layer": "below"})
        elif isinstance(it, Circle):
            shapes.append({"type": "circle", "x0": it.cx - it.r, "y0": it.cy - it.r,
                           "x1": it.cx + it.r, "y1": it.cy + it.r, "fillcolor": it.fill,
                           "line": {"color": it.line, "width": 1}, "layer": "above"})
        elif isinstance(it, Line) and not it.arrow:
            shapes.append({"type": "line", "x0": it.x0, "y0": it.y0, "x1": it.x1, "y1": it.y1,
                           "line": {"color": it.color, "width": it.width,
                                    "dash": "dash" if it.dash else "solid"}})
        elif isinstance(it, Line):
            notes.append(_arrow(it.x0, it.y0, it.x1, it.y1, it.color, it.width))
        elif isinstance(it, Curve):
            shapes.append({"type": "path", "path": f"M {it.x0},{it.y0} Q {it.cx},{it.cy} "
                           f"{it.x1},{it.y1}", "line": {"color": it.color, "width": it.width}})
            if it.arrow:  # head along the end tangent (control point → end)
                tx, ty = it.x1 - it.cx, it.y1 - it.cy
                n = math.hypot(tx, ty) or 1.0
                notes.append(_arrow(it.x1 - 0.12 * tx / n, it.y1 - 0.12 * ty / n, it.x1, it.y1,
                                    it.color, it.width))
        else:
            text = f"<b>{it.text}</b>" if it.bold else it.text
            notes.append({"x": it.x, "y": it.y, "text": text, "showarrow": False,
                          "xanchor": {"start": "left", "end": "right"}.get(it.anchor, "center"),
                          "font": {"size": it.size, "color": it.color}})
    x0, x1, y0, y1 = drawing.bounds()
    fig = go.Figure(go.Scatter(x=[x0, x1], y=[y0, y1], mode="markers",
                               marker={"opacity": 0}, hoverinfo="skip", showlegend=False))
    width = int(min(1150, max(720, px_per_unit * (x1 - x0))))
    scale = (width - 40) / (x1 - x0)  # the x range fills the width; y follows (scaleanchor)
    fig.update_layout(
        title=title, shapes=shapes, annotations=notes, plot_bgcolor="white", width=width,
        height=int(scale * (y1 - y0) + 80), margin={"l": 20, "r": 20, "t": 60, "b": 20},
        xaxis={"visible": False, "range": [x0, x1], "fixedrange": True},
        yaxis={"visible": False, "range": [y0, y1], "scaleanchor": "x", "fixedrange": True},
    )
    return fig


def _arrow(x0: float, y0: float, x1: float, y1: float, colour: str, width: float) -> dict:
    return {"x": x1, "y": y1, "ax": x0, "ay": y0, "xref": "x", "yref": "y", "axref": "x",
            "ayref": "y", "text": "", "showarrow": True, "arrowhead": 2, "arrowsize": 1,
            "arrowwidth": width, "arrowcolor": colour}


def unet_figure(best: UNetLayout, reference: UNetLayout | None = None, *,
                best_title: str = "best genome", reference_title: str = "pix2pix reference",
                title: str = TITLES["unet"]) -> go.Figure:
    """Paper 000 Fig. 5: encoder/decoder boxes (in → out channels), kept skips solid, removed
    skips dashed, the best genome beside pix2pix's layout."""
    return drawing_figure(unet_drawing(best, reference, best_title=best_title,
                                       reference_title=reference_title), title=title)


def stages_figure(stages: list[StageLayout], *, title: str = TITLES["stages"]) -> go.Figure:
    """Paper 004 Fig. 1/5: each stage as a DAG; default input node and its edges red, default
    output node and its edges green, isolated (dropped) nodes grey."""
    return drawing_figure(stages_drawing(stages), title=title, px_per_unit=85.0)


def image_figure(png: bytes, *, row_labels: Sequence[str] = ("input", "output", "target"),
                 title: str = TITLES["samples"], pad: int = 2) -> go.Figure:
    """A PNG grid (rows of images, as the translation task saves) embedded as base64."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as img:
        w, h = img.size
    uri = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
    fig = go.Figure(go.Image(source=uri, hoverinfo="skip"))
    n = len(row_labels)
    cell = (h - pad) / n if n else h
    fig.update_yaxes(tickvals=[pad + i * cell + (cell - pad) / 2 for i in range(n)],
                     ticktext=list(row_labels), showgrid=False)
    fig.update_xaxes(showticklabels=False, showgrid=False)
    scale = max(1.0, min(6.0, 900 / w))
    fig.update_layout(title=title, width=int(w * scale + 140), height=int(h * scale + 90),
                      margin={"l": 80, "r": 20, "t": 50, "b": 20})
    return fig


__all__ = ["TITLES", "drawing_figure", "generation_table_figure", "generations_figure",
           "image_figure", "lineage_figure", "loss_macs_figure", "stages_figure", "unet_figure"]
