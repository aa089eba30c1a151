"""What a search prints at its end: the best genome, or a multi-objective study's Pareto
front, and the optuna-dashboard command."""

from __future__ import annotations

from optuna.trial import TrialState

import nasga.evaluation.records as R
from nasga.evaluation.objective import CONFIRM_ATTR
from nasga.search.run import Search
from nasga.storages.storage import artifact_dir, redact, storage_kind


def summary(search: Search) -> str:
    """The best genome (:func:`nasga.results.best.best_genome`) with its cost and measurements
    (several objectives: the Pareto front, :func:`front_lines`), and the dashboard command."""
    from nasga.results.best import best_genome

    complete = [t for t in search.study.trials if t.state == TrialState.COMPLETE]
    lines = []
    if search.settings.study.multi_objective:
        lines.extend(front_lines(search))
    elif (best := best_genome(search.study)) is not None:
        a = best.trial.user_attrs
        lines.append(f"best genome: {best.genome}  (trial {best.trial.number}, fitness "
                     f"{best.fitness:.6g}, {best.describe()})")
        if "macs" in a:
            lines.append(f"  MACs {float(a['macs']) / 1e6:,.2f} M per image, params "
                         f"{int(a.get('params', 0)):,}")
        shown = {k: v for k, v in a.items() if isinstance(v, (int, float)) and not
                 isinstance(v, bool) and k not in ("macs", "params", R.EVAL_SEED, R.N_EVALUATIONS,
                                                   R.GA_GENERATION, CONFIRM_ATTR)}
        lines.append("  " + ", ".join(f"{k} {v:.4g}" for k, v in sorted(shown.items())))
    trained = R.count_trained(complete)
    lines.append(f"{len(complete)} evaluations, {trained} trainings, "
                 f"{len(complete) - trained} from the cache{failed_note(search.study.trials)}")
    lines.append(dashboard_command(search.storage_url))
    return "\n".join(lines)


def failed_note(trials: list) -> str:  # type: ignore[type-arg]
    """``"; N failed (last: REASON)"`` from the failed trials' ``fail_reason`` (Optuna's own
    warning for such a trial only says its value was NaN), or ``""`` when none failed."""
    failed = [t for t in trials if t.state == TrialState.FAIL]
    if not failed:
        return ""
    reason = next((str(t.user_attrs[R.FAIL_REASON]) for t in reversed(failed)
                   if R.FAIL_REASON in t.user_attrs), "no reason recorded")
    return f"; {len(failed)} failed (last: {reason.splitlines()[0][:200]})"


def front_lines(search: Search, shown: int = 10) -> list[str]:
    """A multi-objective study's Pareto front (:func:`nasga.results.best.pareto_front`): a
    line naming its objectives, then up to ``shown`` genomes with their means, best first by
    the first objective, each with its number of trainings (unconfirmed under 3)."""
    from nasga.results.best import pareto_front

    study = search.settings.study
    front = pareto_front(search.study)
    names = ", ".join(f"{n} ({d})" for n, d in zip(study.objectives, study.directions))
    lines = [f"Pareto front: {len(front)} genomes over {names}"]
    for m in front[:shown]:
        means = ", ".join(f"{n} {v:.4g}" for n, v in zip(study.objectives, m.values))
        lines.append(f"  {m.genome}  {means}  (trial {m.trial.number}, {m.describe()})")
    if len(front) > shown:
        lines.append(f"  ... and {len(front) - shown} more (nasga export lists them all)")
    return lines


def dashboard_command(url: str) -> str:
    """The exact command that opens the study in optuna-dashboard (password redacted)."""
    target = redact(url)
    if storage_kind(url) == "journal":
        from nasga.storages.storage import journal_path

        target = str(journal_path(url))
    return f"inspect it: optuna-dashboard {target} --artifact-dir {artifact_dir(url)}"


__all__ = ["dashboard_command", "failed_note", "front_lines", "summary"]
