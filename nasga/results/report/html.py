"""The HTML report: every figure of a study on one self-contained page.

:func:`write_report` loads a study, builds the figures of :mod:`nasga.results.report.figures` from the
data of :mod:`nasga.results.report.data`, and writes ONE HTML file with plotly.js embedded once, so it
opens with no network. It also attaches the best genome's architecture (SVG) and its sample
grid to the best trial, where optuna-dashboard shows them.
"""

from __future__ import annotations

import errno
import html
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
import plotly.io as pio

import nasga.evaluation.records as R
import nasga.results.report.artifacts as art
import nasga.results.report.data as D
import nasga.results.report.figures as F
from nasga.errors import check_out_file
from nasga.results.report.drawing import stages_drawing, to_svg, unet_drawing
from nasga.results.report.sections import (
    Report, Section, cost_title, reference_title, samples_section, task_setting,
)
from nasga.spaces import (
    SPACES, GeneticCNNGenome, GeneticCNNSpace, NasgaInputError, Space, UNetGenome, UNetSpace,
)



def _summary(study: optuna.Study, cfg: dict[str, Any], pick: D.BestGenome | None
             ) -> list[tuple[str, str]]:
    trials = D.complete_trials(study)
    trained = R.count_trained(trials)
    s = cfg.get("strategy", {})
    rows = [("study", study.study_name),
            ("task / sampler", f"{cfg['study']['task']} / {cfg['study'].get('sampler', 'ga')}"),
            ("population × generations", f"{s.get('population')} × (1 + {s.get('generations')})"),
            ("evaluations", f"{len(trials)} complete ({trained} trainings, "
                            f"{len(trials) - trained} from the cache), {len(study.trials)} trials")]
    if pick is not None:
        best = pick.trial
        a = best.user_attrs
        rows += [("best genome", f"{pick.genome} (trial {best.number}, generation "
                                 f"{R.lineage(best).get(R.GA_GENERATION, '?')})"),
                 ("best fitness", f"{pick.fitness:.6g}, {pick.describe()}")]
        if "macs" in a:
            rows.append(("cost", f"{float(a['macs']) / 1e6:,.3f} M MACs per image, "
                                 f"{int(a.get('params', 0)):,} parameters"))
        shown = [f"{k} {v:.4g}" for k, v in sorted(a.items())
                 if k in ("val_accuracy", "val_loss", "l_gen", "l1", "l_gan", "psnr", "ssim")
                 and isinstance(v, (int, float))]
        if shown:
            rows.append(("measurements", ", ".join(shown)))
    return rows


def build_report(study: optuna.Study, *, artifact_store: Any | None = None) -> Report:
    """Figures and notes of a nasga study, and the files to attach to its best trial.

    Args:
        study: A study created by nasga (its config is in the user attrs).
        artifact_store: Where the trials' files are (the sample grid); ``None``: no samples.

    Raises:
        NasgaInputError: The study holds no nasga configuration.
    """
    cfg = D.study_config(study)
    if cfg is None:
        raise NasgaInputError("study_name", f"study {study.study_name!r} holds no nasga "
                              "configuration")
    task = cfg["study"]["task"]
    space = D.study_space(study)
    if len(study.directions) > 1:
        from nasga.results.report.front import build_front_report

        return build_front_report(study, cfg, space, artifact_store)
    pick = D.best_genome(study)
    best = None if pick is None else pick.trial
    report = Report(f"nasga report: {study.study_name}", _summary(study, cfg, pick))
    add = report.sections.append
    percent = getattr(SPACES.get(task), "percent_fitness", False)

    rows = D.generation_table(study)
    if rows:
        add(Section("fig-table", "Table 1: per-generation statistics",
                    F.generation_table_figure(rows, percent=percent)))
        add(Section("fig-generations", "Fig. 3: fitness per generation",
                    F.generations_figure(rows, percent=percent)))
    else:
        add(Section("fig-table", "Table 1: per-generation statistics",
                    note="No COMPLETE trial yet."))
    pairs = D.lineage_pairs(study)
    add(Section("fig-lineage", "Fig. 4: parents vs children", F.lineage_figure(pairs)
                if pairs else None, note=None if pairs else
                "No bred trial with evaluated parents (the GA's first generation is random; "
                "baseline samplers keep no lineage)."))

    genome = space.parse(str(best.user_attrs[R.GENOME])) if best is not None and space else None
    architecture = ARCHITECTURE_SECTIONS.get(space.name) if genome is not None else None
    if architecture is not None:
        architecture(report, study, cfg, space, genome, best)
    samples_section(report, study, best, artifact_store)
    _curve_sections(report, study, cfg)
    _optuna_sections(report, study)
    return report


RUNG_ROWS = 2000
"""The most trials the rung table lists (the latest ones)."""


def _curve_sections(report: Report, study: optuna.Study, cfg: dict[str, Any]) -> None:
    """Learning curves (Optuna's intermediate-value plot) and each trial's rung, with the
    epochs trained per generation, when the study's trainings reported curves (issue 27)."""
    rows = D.rung_rows(study, epochs=task_setting(cfg, "epochs"))
    if not any(r.value is not None for r in rows):
        return
    from optuna.visualization import plot_intermediate_values

    per: dict[int, int] = {}
    for r in rows:
        if r.generation is not None:
            per[r.generation] = per.get(r.generation, 0) + r.epochs
    params = dict(cfg["study"].get("pruner") or {"name": "none"})
    name = params.pop("name")
    pruner = f"{name} {params}" if params else name
    report.summary.append(("epochs trained", f"{sum(r.epochs for r in rows):,} "
                           f"({sum(r.state == 'PRUNED' for r in rows)} trainings pruned; "
                           f"pruner {pruner})"))
    report.sections.append(Section("fig-curves", "Learning curves",
                                   plot_intermediate_values(study)))
    shown = rows[-RUNG_ROWS:]
    caption = [f"the latest {len(shown)} of {len(rows)} trials"] if len(shown) < len(rows) else []
    if per:
        caption.append("epochs trained per generation: " + ", ".join(
            f"{g}: {e}" for g, e in sorted(per.items())))
    report.sections.append(Section("fig-rungs", "Each trial's rung", F.rung_table_figure(shown),
                                   caption="; ".join(caption) or None))


def _stage_sections(report: Report, study: optuna.Study, cfg: dict[str, Any],
                    space: Space, genome: GeneticCNNGenome,
                    best: optuna.trial.FrozenTrial) -> None:
    layouts = D.stage_layouts(genome)
    report.sections.append(Section(
        "fig-stages", "Fig. 1 / 5: the best genome's stages", F.stages_figure(layouts),
        static=True, caption=f"best genome {genome} (trial {best.number}); red: default input "
                             "node, green: default output node, grey: isolated nodes (dropped)"))
    report.attachments[art.ARCHITECTURE_FILE] = to_svg(
        stages_drawing(layouts, title=f"{genome}  (trial {best.number})"),
        title=str(genome)).encode()


def _unet_sections(report: Report, study: optuna.Study, cfg: dict[str, Any], space: UNetSpace,
                   genome: UNetGenome, best: optuna.trial.FrozenTrial) -> None:
    gamma = float(task_setting(cfg, "gamma") or 0.0)
    image_size = task_setting(cfg, "image_size")
    points = D.cost_points(study)
    reference = space.reference_genome()
    if points:
        report.sections.append(Section(
            "fig-loss-macs", "Validation loss vs cost", F.loss_macs_figure(
                points, D.iso_fitness_lines(points, gamma), best_key=genome.key,
                reference_key=reference.key),
            caption=f"fitness = 1 / (L_Gen + γ·GMACs) with γ = {gamma:g}: dotted lines hold "
                    "the fitness constant; the Pareto front minimises both axes."))
    best_title = cost_title(f"best (trial {best.number})", best)
    ref_title = reference_title(space, reference, image_size)
    best_layout = D.unet_layout(genome, image_size=image_size)
    ref_layout = D.unet_layout(reference, image_size=image_size)
    report.sections.append(Section(
        "fig-architecture", "Fig. 5: architecture", F.unet_figure(
            best_layout, ref_layout, best_title=best_title, reference_title=ref_title),
        static=True, caption="boxes: input → output channels of each convolution; solid "
                             "lines: kept skip connections, dashed: removed ones."))
    report.attachments[art.ARCHITECTURE_FILE] = to_svg(
        unet_drawing(best_layout, ref_layout, best_title=best_title, reference_title=ref_title),
        title=str(genome)).encode()


#: The best genome's architecture sections by space name (:data:`nasga.spaces.SPACES`): paper
#: 004 Fig. 1/5 stage DAGs, paper 000 Fig. 5 U-Net beside pix2pix's and its loss–MACs plane. A
#: space without an entry gets none.
ARCHITECTURE_SECTIONS: dict[str, Callable[..., None]] = {
    GeneticCNNSpace.name: _stage_sections, UNetSpace.name: _unet_sections}


def _optuna_sections(report: Report, study: optuna.Study) -> None:
    from optuna.visualization import plot_optimization_history, plot_param_importances

    report.sections.append(Section("fig-optuna-history", "Optuna: optimization history",
                                   plot_optimization_history(study, target_name="fitness")))
    heading = "Optuna: parameter importances"
    if len(D.complete_trials(study)) < 2:
        report.sections.append(Section("fig-optuna-importances", heading,
                                       note="Needs at least two COMPLETE trials."))
        return
    try:
        fig = plot_param_importances(study, target_name="fitness")
    except Exception as exc:  # e.g. every parameter constant, or one distinct value
        report.sections.append(Section("fig-optuna-importances", heading,
                                       note=f"Not available: {type(exc).__name__}: {exc}"))
        return
    report.sections.append(Section("fig-optuna-importances", heading, fig))


_ERROR_COLLECTOR = """<script>
window.nasgaErrors = [];
function nasgaError(msg) {
  window.nasgaErrors.push(String(msg));
  var el = document.getElementById("nasga-js-errors");
  if (el) { el.textContent = window.nasgaErrors.join("\\n"); }
}
window.addEventListener("error", function (e) {
  nasgaError((e.message || "error") + " at " + (e.filename || "") + ":" + (e.lineno || ""));
});
window.addEventListener("unhandledrejection", function (e) {
  nasgaError("unhandled rejection: " + ((e.reason && e.reason.message) || e.reason));
});
(function () {
  var original = console.error;
  console.error = function () {
    nasgaError("console.error: " + Array.prototype.join.call(arguments, " "));
    return original.apply(console, arguments);
  };
})();
window.addEventListener("load", function () {
  document.body.setAttribute("data-plots", String(document.querySelectorAll(".main-svg").length));
  document.body.setAttribute("data-status", window.nasgaErrors.length ? "errors" : "ok");
});
</script>"""

_STYLE = """<style>
body { font-family: Helvetica, Arial, sans-serif; margin: 24px auto; max-width: 1200px;
       color: #222; padding: 0 16px; }
h1 { font-size: 24px; } h2 { font-size: 18px; margin-top: 36px; border-bottom: 1px solid #ddd; }
table.summary td { padding: 2px 12px 2px 0; vertical-align: top; }
table.summary td:first-child { color: #666; white-space: nowrap; }
.note { color: #777; font-style: italic; } .caption { color: #555; font-size: 13px; }
#nasga-js-errors { color: #b00; white-space: pre-wrap; }
#nasga-js-errors:empty { display: none; }
</style>"""


def render_html(report: Report) -> str:
    """The page: summary, then each section; plotly.js is inlined once, with the first figure."""
    parts = ["<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
             f"<title>{html.escape(report.title)}</title>", _ERROR_COLLECTOR, _STYLE,
             "</head><body>", f"<h1>{html.escape(report.title)}</h1>",
             '<table class="summary" id="summary">']
    parts += [f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
              for k, v in report.summary]
    parts.append("</table>")
    js_included = False
    config = {"displaylogo": False, "responsive": True}
    for s in report.sections:
        parts.append(f'<section id="section-{s.id}"><h2>{html.escape(s.heading)}</h2>')
        if s.figure is not None:
            parts.append(pio.to_html(
                s.figure, full_html=False, div_id=s.id, include_plotlyjs=not js_included,
                config={**config, "displayModeBar": False} if s.static else config))
            js_included = True
        if s.caption:
            parts.append(f'<p class="caption">{html.escape(s.caption)}</p>')
        if s.note:
            parts.append(f'<p class="note" id="{s.id}-note">{html.escape(s.note)}</p>')
        parts.append("</section>")
    parts += ['<pre id="nasga-js-errors"></pre>', "</body></html>"]
    return "\n".join(parts) + "\n"


def write_report(storage_url: str, study_name: str, out_path: str | Path = "report.html", *,
                 attach: bool = True, log: Callable[[str], None] | None = None,
                 allow_empty: bool = True) -> Path:
    """Write the study's report as ONE self-contained HTML file; attach figures to the best trial
    (several objectives: each drawn front member's, :mod:`nasga.results.report.front`).

    Args:
        storage_url: The study's storage (``sqlite:///``, ``journal:///``, ``postgresql://``).
        study_name: The study.
        out_path: The HTML file to write (its folder must exist).
        attach: Attach ``best_architecture.svg`` and the sample grid to the best trial
            (several objectives: ``front_architecture.svg`` to each drawn front member's latest
            measurement; idempotent: a file the trial already has is not attached again).
        log: Receives one line per attached artifact.

    Returns:
        The written path.

    Raises:
        NasgaInputError: Unknown study, a study without nasga config, ``out_path`` a folder
            or in a missing folder, or (``allow_empty=False``, the CLI) no complete trial yet;
            all before anything is written.
    """
    from optuna.artifacts import FileSystemArtifactStore

    from nasga.storages.storage import (NasgaStorageError, artifact_dir, check_artifact_dir,
                                        load_study_config, open_storage)

    out = check_out_file(out_path)
    if attach:
        check_artifact_dir(storage_url)  # before the page is written
    storage = open_storage(storage_url, heartbeat=False, create=False, readonly=not attach)
    load_study_config(storage, study_name)  # clear errors for a missing or foreign study
    study = optuna.load_study(study_name=study_name, storage=storage)
    if not allow_empty and D.best_trial(study) is None:
        raise NasgaInputError("study_name", f"study {study_name!r} has no complete trial yet; "
                              "nothing to report (run or resume it first)")
    store_dir = artifact_dir(storage_url)
    store = FileSystemArtifactStore(str(store_dir)) if store_dir.is_dir() else None
    report = build_report(study, artifact_store=store)
    try:
        out.write_text(render_html(report), encoding="utf-8")
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise NasgaStorageError(f"storage: cannot write {out}: {exc.strerror}") from None
        raise NasgaInputError("out", f"cannot write {str(out)!r}: {exc.strerror or exc}") from None
    best = D.best_trial(study)
    targets = dict(report.trial_attachments)
    if best is not None and report.attachments:
        targets[best.number] = report.attachments
    if attach and targets:
        store_dir.mkdir(parents=True, exist_ok=True)
        store = store or FileSystemArtifactStore(str(store_dir))
        trials = study.get_trials(deepcopy=False)
        for number, files in targets.items():
            for filename, payload in files.items():
                if art.attach(study, trials[number], store, filename, payload) and log:
                    log(f"attached {filename} to trial {number}")
    return out


__all__ = ["Report", "Section", "build_report", "check_out_file", "render_html",
           "write_report"]
