"""The report of a multi-objective study (issue 29): its Pareto front over generations, the
final front as a table, and each member's architecture and samples.

The front is :func:`nasga.results.best.pareto_front`, the one rule (key means, no threshold,
``confirmed`` at :data:`nasga.results.best.MIN_TRAININGS` measurements); a generation's front is
the same rule over the measurements of the generations up to it. Each member gets the panels a
single-objective report draws for its best genome: paper 004 Fig. 1/5's stage DAGs or paper
000 Fig. 5's U-Net beside pix2pix's, and the validation sample grid (paper 000 Fig. 4) where
its trainings saved one.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import optuna
import plotly.graph_objects as go
from plotly.colors import sample_colorscale

import nasga.evaluation.records as R
import nasga.results.report.data as D
import nasga.results.report.figures as F
from nasga.results.best import (
    MIN_TRAININGS, FrontMember, key_vectors, objective_names, pareto_front,
)
from nasga.results.report.drawing import stages_drawing, to_svg, unet_drawing
from nasga.results.report.sections import (
    Report, Section, cost_title, reference_title, samples_section, task_setting,
)
from nasga.results.stats import trial_generation
from nasga.spaces import GeneticCNNGenome, Space, UNetGenome, UNetSpace

_log = logging.getLogger(__name__)

MEMBERS_SHOWN = 12
"""Front members drawn one by one (best first by the first objective); the table lists all."""
MEMBER_ARCHITECTURE_FILE = "front_architecture.svg"
"""The architecture attached to each drawn member's latest measurement trial."""


def generation_fronts(study: optuna.Study, population_size: int | None = None
                      ) -> list[tuple[int, list[FrontMember]]]:
    """The front after each generation: :func:`~nasga.results.best.pareto_front` over the
    measurements of generations ``<= g`` (:func:`nasga.results.stats.trial_generation`:
    the GA's ``ga_generation``, else blocks of ``population_size`` trials; confirmation
    trainings belong to none and count only in the final front)."""
    trials = study.get_trials(deepcopy=False)
    gens = {t.number: trial_generation(t, population_size) for t in trials}
    out = []
    for g in sorted({g for g in gens.values() if g is not None}):
        upto = [t for t in trials if gens[t.number] is not None and gens[t.number] <= g]
        out.append((g, pareto_front(study, trials=upto)))
    return out


def key_points(study: optuna.Study, population_size: int | None = None
               ) -> list[tuple[str, str, tuple[float, ...], int | None]]:
    """Every measured key as ``(key, genome, means, generation of its first measurement)``."""
    out = []
    for key, (values, ts) in key_vectors(study).items():
        out.append((key, str(ts[-1].user_attrs.get(R.GENOME, key)), values,
                    trial_generation(ts[0], population_size)))
    return out


def _axis(names: Sequence[str], directions: Sequence[Any], i: int) -> str:
    return f"{names[i]} ({directions[i].name.lower()})"


def front_figure(study: optuna.Study, population_size: int | None = None) -> go.Figure:
    """Objective space (the first two objectives): every measured key coloured by the
    generation that first measured it, the front after each generation as a line, the final
    front highlighted."""
    names, dirs = objective_names(study), study.directions
    points = key_points(study, population_size)
    fig = go.Figure()
    gens = [g for *_, g in points]
    fig.add_trace(go.Scatter(
        x=[v[1] for _, _, v, _ in points], y=[v[0] for _, _, v, _ in points], mode="markers",
        name=f"measured genomes ({len(points)})",
        marker={"size": 7, "opacity": 0.6, "color": [-1 if g is None else g for g in gens],
                "colorscale": "Viridis", "showscale": True,
                "colorbar": {"title": {"text": "generation"}, "x": 1.02}},
        text=[f"{genome}<br>generation {g}" for _, genome, _, g in points],
        hovertemplate="%{text}<br>%{x:.4g}, %{y:.4g}<extra></extra>"))
    fronts = generation_fronts(study, population_size)
    last = max((g for g, _ in fronts), default=0) or 1
    for g, members in fronts:
        ms = sorted(members, key=lambda m: (m.values[1], m.values[0]))
        colour = sample_colorscale("Viridis", [g / last])[0]
        fig.add_trace(go.Scatter(
            x=[m.values[1] for m in ms], y=[m.values[0] for m in ms], mode="lines",
            name=f"front after generation {g} ({len(ms)})", legendgroup="generations",
            line={"width": 1, "color": colour}, opacity=0.7, hoverinfo="skip"))
    final = sorted(pareto_front(study), key=lambda m: (m.values[1], m.values[0]))
    fig.add_trace(go.Scatter(
        x=[m.values[1] for m in final], y=[m.values[0] for m in final], mode="lines+markers",
        name=f"Pareto front ({len(final)})", line={"color": "#d62728", "width": 2},
        marker={"size": 12, "symbol": "circle-open", "color": "#d62728", "line": {"width": 2}},
        text=[f"{m.genome}<br>{m.describe()}" for m in final],
        hovertemplate="%{text}<br>%{x:.4g}, %{y:.4g}<extra>Pareto</extra>"))
    fig.update_layout(title=F.TITLES["front"], xaxis_title=_axis(names, dirs, 1),
                      yaxis_title=_axis(names, dirs, 0), height=560,
                      legend={"orientation": "h", "y": -0.2})
    return fig


def front_table_figure(study: optuna.Study, front: Sequence[FrontMember]) -> go.Figure:
    """Every front member: genome, each objective's mean, trainings, confirmed, trials."""
    names = objective_names(study)
    header = ["#", "genome", *names, "trainings", "confirmed", "trials"]
    cells = [[str(i + 1) for i in range(len(front))], [m.genome for m in front],
             *[[f"{m.values[j]:.6g}" for m in front] for j in range(len(names))],
             [str(m.n_measurements) for m in front], ["yes" if m.confirmed else "no"
                                                       for m in front],
             [", ".join(map(str, m.trials)) for m in front]]
    fig = go.Figure(go.Table(
        header={"values": header, "fill_color": "#dbe9f6", "align": "center"},
        cells={"values": cells, "align": "left", "font": {"family": "monospace", "size": 12},
               "height": 24}))
    fig.update_layout(title=F.TITLES["front_table"], height=min(900, 130 + 26 * len(front)),
                      margin={"l": 20, "r": 20, "t": 50, "b": 10})
    return fig


def _summary(study: optuna.Study, cfg: dict[str, Any], front: Sequence[FrontMember]
             ) -> list[tuple[str, str]]:
    trials = study.get_trials(deepcopy=False, states=(optuna.trial.TrialState.COMPLETE,))
    trained = R.count_trained(trials)
    s = cfg.get("strategy", {})
    names = objective_names(study)
    confirmed = sum(m.confirmed for m in front)
    return [("study", study.study_name),
            ("task / sampler", f"{cfg['study']['task']} / {cfg['study'].get('sampler', 'ga')}"),
            ("population × generations", f"{s.get('population')} × (1 + {s.get('generations')})"),
            ("evaluations", f"{len(trials)} complete ({trained} trainings, "
                            f"{len(trials) - trained} from the cache), {len(study.trials)} trials"),
            ("objectives", ", ".join(_axis(names, study.directions, i)
                                     for i in range(len(names)))),
            ("Pareto front", f"{len(front)} genomes, {confirmed} confirmed (at least "
                             f"{MIN_TRAININGS} trainings; nasga run --confirm K measures the "
                             "others again)")]


def _architecture(space: Space | None, genome: Any, member: FrontMember, i: int,
                  cfg: dict[str, Any]) -> tuple[go.Figure, str] | None:
    """Member ``i``'s architecture figure and its SVG, as the single-objective report draws
    its best genome's (``None``: a space without a drawing)."""
    trial = member.trial
    if isinstance(genome, GeneticCNNGenome):
        layouts = D.stage_layouts(genome)
        fig = F.stages_figure(layouts, title=F.TITLES["member_stages"].format(i=i))
        svg = to_svg(stages_drawing(layouts, title=f"{genome}  (trial {trial.number})"),
                     title=str(genome))
        return fig, svg
    if isinstance(genome, UNetGenome) and isinstance(space, UNetSpace):
        image_size = task_setting(cfg, "image_size")
        reference = space.reference_genome()
        titles = {"best_title": cost_title(f"member {i} (trial {trial.number})", trial),
                  "reference_title": reference_title(space, reference, image_size)}
        layouts = (D.unet_layout(genome, image_size=image_size),
                   D.unet_layout(reference, image_size=image_size))
        fig = F.unet_figure(*layouts, **titles, title=F.TITLES["member_unet"].format(i=i))
        return fig, to_svg(unet_drawing(*layouts, **titles), title=str(genome))
    return None


def _member_sections(report: Any, study: optuna.Study, cfg: dict[str, Any],
                     space: Space | None, front: Sequence[FrontMember], store: Any | None
                     ) -> None:
    """Per drawn member (the first :data:`MEMBERS_SHOWN`): its architecture and samples."""
    names = objective_names(study)
    for i, m in enumerate(front[:MEMBERS_SHOWN], start=1):
        means = ", ".join(f"{n} {v:.4g}" for n, v in zip(names, m.values))
        heading = f"Front member {i}: {m.genome}"
        caption = f"{means} ({m.describe()}; trials {', '.join(map(str, m.trials))})"
        genome = space.parse(m.genome) if space is not None else None
        drawn = _architecture(space, genome, m, i, cfg) if genome is not None else None
        if drawn is None:
            report.sections.append(Section(f"fig-member-{i}", heading, caption=caption,
                                           note="No architecture drawing for this space."))
        else:
            report.sections.append(Section(f"fig-member-{i}", heading, drawn[0], caption=caption,
                                           static=True))
            report.trial_attachments.setdefault(m.trial.number, {})[
                MEMBER_ARCHITECTURE_FILE] = drawn[1].encode()
        samples_section(report, study, m.trial, store, sid=f"fig-member-{i}-samples",
                         heading=f"Sample images of front member {i}",
                         whose=f"Front member {i}", title=F.TITLES["member_samples"].format(
                             i=i), attachments=report.trial_attachments.setdefault(
                                 m.trial.number, {}))
    if len(front) > MEMBERS_SHOWN:
        report.sections.append(Section(
            "fig-member-more", "Further front members",
            note=f"{len(front) - MEMBERS_SHOWN} more members are listed in the table above "
                 "(nasga export writes them all)."))


def build_front_report(study: optuna.Study, cfg: dict[str, Any], space: Space | None,
                       store: Any | None) -> Any:
    """The :class:`~nasga.results.report.sections.Report` of a multi-objective study: summary,
    Table 1 / Fig. 3 of the first objective, the front over generations, the front's table,
    each drawn member's architecture and samples, and Optuna's own Pareto-front plot."""
    front = pareto_front(study)
    report = Report(f"nasga report: {study.study_name}", _summary(study, cfg, front))
    add = report.sections.append
    blocks = D.population_blocks(study)
    first = _axis(objective_names(study), study.directions, 0)
    rows = D.generation_table(study)
    if rows:
        add(Section("fig-table", f"Table 1: per-generation statistics of {first}",
                    F.generation_table_figure(rows)))
        add(Section("fig-generations", f"Fig. 3: {first} per generation",
                    F.generations_figure(rows)))
    if not front:
        add(Section("fig-front", "Pareto front", note="No COMPLETE measurement yet."))
        return report
    more = len(study.directions) > 2
    add(Section("fig-front", "Pareto front over generations", front_figure(study, blocks),
                caption="x: the second objective, y: the first" + (
                    "; the front is non-dominated in all objectives, so in this projection "
                    "some members look dominated" if more else "") + "."))
    add(Section("fig-front-table", "Pareto front members", front_table_figure(study, front)))
    add(Section("fig-lineage", "Fig. 4: parents vs children", note=(
        "Paper 004's Fig. 4 compares one fitness per trial; a study with several objectives "
        "has a vector per trial.")))
    _member_sections(report, study, cfg, space, front, store)
    _optuna_front(report, study)
    return report


def _optuna_front(report: Any, study: optuna.Study) -> None:
    """Optuna's ``plot_pareto_front`` (2 or 3 objectives), what optuna-dashboard draws."""
    from optuna.visualization import plot_pareto_front

    heading = "Optuna: Pareto front"
    try:
        fig = plot_pareto_front(study, target_names=list(objective_names(study)))
    except Exception as exc:  # e.g. more than 3 objectives
        report.sections.append(Section("fig-optuna-pareto", heading,
                                       note=f"Not available: {type(exc).__name__}: {exc}"))
        return
    report.sections.append(Section(
        "fig-optuna-pareto", heading, fig, caption="Optuna's front is over trials (each "
        "trial's value is its key's mean when it finished); the front above is over keys' "
        "current means."))
