"""The blocks of a report page and the helpers both report kinds share (one objective:
:mod:`nasga.results.report.html`; a front: :mod:`nasga.results.report.front`)."""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from typing import Any

import optuna
import plotly.graph_objects as go

import nasga.results.report.artifacts as art
import nasga.results.report.figures as F
from nasga.spaces import UNetGenome, UNetSpace

_log = logging.getLogger(__name__)


@dataclass
class Section:
    """One block of the page: a figure, or a note saying why it is missing."""

    id: str
    heading: str
    figure: go.Figure | None = None
    note: str | None = None
    caption: str | None = None
    static: bool = False  # a drawing: no zoom, no mode bar


@dataclass
class Report:
    """Everything :func:`write_report` puts on the page and attaches to the best trial
    (``attachments``) or, with several objectives, to other trials (``trial_attachments``, by
    trial number: each drawn front member's latest measurement)."""

    title: str
    summary: list[tuple[str, str]]
    sections: list[Section] = field(default_factory=list)
    attachments: dict[str, bytes] = field(default_factory=dict)
    trial_attachments: dict[int, dict[str, bytes]] = field(default_factory=dict)


def task_setting(cfg: dict[str, Any], name: str) -> Any:
    """A task setting from the stored config, else the task class's default."""
    if name in cfg.get("task", {}):
        return cfg["task"][name]
    from nasga.tasks import task_settings

    default = task_settings(cfg["study"]["task"]).get(name)
    return None if default is inspect.Parameter.empty else default


def cost_title(label: str, trial: optuna.trial.FrozenTrial) -> str:
    """``label``, with the trial's MACs and parameters where it measured them."""
    a = trial.user_attrs
    if "macs" in a:
        label += f": {float(a['macs']) / 1e6:,.2f} M MACs, {int(a.get('params', 0)):,} params"
    return label


def reference_title(space: UNetSpace, reference: UNetGenome, image_size: Any) -> str:
    """"pix2pix reference" with its MACs and parameters (when thop can count them)."""
    title = "pix2pix reference"
    try:
        from nasga.results.describe import describe

        info = describe(space, reference, image_size=int(image_size or 256))
        title += f": {info['macs'] / 1e6:,.2f} M MACs, {info['params']:,} params"
    except Exception as exc:  # cost of the reference is a nicety; the layout still draws
        _log.warning("could not measure the reference U-Net: %s", exc)
    return title


def samples_section(report: Report, study: optuna.Study, best: optuna.trial.FrozenTrial | None,
                     store: Any | None, *, sid: str = "fig-samples",
                     heading: str = "Sample images of the best genome",
                     whose: str = "The best trial", title: str = F.TITLES["samples"],
                     attachments: dict[str, bytes] | None = None) -> None:
    """The validation grid of ``best``'s genome (paper 000 Fig. 4), or a note saying why not;
    a grid found on another training of the key goes into ``attachments`` (default: the
    report's, attached to the best trial)."""
    found = art.find_artifact(study, best, art.GRID_FILE) if best is not None else None
    if best is None or found is None or store is None:
        note = ("No COMPLETE trial yet." if best is None else
                f"{whose} has no sample grid (the classification task saves none)."
                if found is None else "No artifact store to read the sample grid from.")
        report.sections.append(Section(sid, heading, note=note))
        return
    try:
        png = art.read_artifact(store, found)
    except Exception as exc:
        report.sections.append(Section(sid, heading,
                                       note=f"Could not read the sample grid: {exc}"))
        return
    report.sections.append(Section(sid, heading, F.image_figure(png, title=title), caption=(
        f"validation grid of trial {found.trial} (genome {best.user_attrs.get('genome')})")))
    if found.trial != best.number:
        (report.attachments if attachments is None else attachments)[art.GRID_FILE] = png


__all__ = ["Report", "Section", "cost_title", "reference_title", "samples_section",
           "task_setting"]
