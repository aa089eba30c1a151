"""Reports that look like the papers: tables, fitness plots, architecture figures, samples.

* :mod:`nasga.results.report.data` — pure data (Table 1 rows, lineage pairs, loss–MACs points, Pareto
  front, iso-fitness lines, U-Net and stage-DAG layouts); no plotting library.
* :mod:`nasga.results.report.figures` — plotly figures built from that data.
* :mod:`nasga.results.report.drawing` — architecture drawings, rendered to plotly or SVG.
* :mod:`nasga.results.report.html` — :func:`write_report`: one self-contained HTML page.
"""

from __future__ import annotations

from nasga.results.report.data import (
    CostPoint, DagEdge, DagNode, IsoFitnessLine, LayerBox, LineagePair, SkipLink, StageLayout,
    UNetLayout, best_trial, cost_points, generation_table, iso_fitness_lines, lineage_pairs,
    pareto_front, stage_layouts, unet_layout,
)
from nasga.results.report.figures import (
    TITLES, generation_table_figure, generations_figure, image_figure, lineage_figure,
    loss_macs_figure, stages_figure, unet_figure,
)
from nasga.results.report.html import Report, Section, build_report, render_html, write_report

__all__ = [
    "CostPoint", "DagEdge", "DagNode", "IsoFitnessLine", "LayerBox", "LineagePair", "Report",
    "Section", "SkipLink", "StageLayout", "TITLES", "UNetLayout", "best_trial", "build_report",
    "cost_points", "generation_table", "generation_table_figure", "generations_figure",
    "image_figure", "iso_fitness_lines", "lineage_figure", "lineage_pairs", "loss_macs_figure",
    "pareto_front", "render_html", "stage_layouts", "stages_figure", "unet_figure",
    "unet_layout", "write_report",
]
