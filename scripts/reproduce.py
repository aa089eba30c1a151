#!/usr/bin/env python
"""Reproduce both papers' claims at CPU scale: ``python scripts/reproduce.py [--quick]``.

Rows (docs/reproduction.md):

1. Paper 004 Table 1 protocol (Genetic CNN on digits): N=20, T=50, pC=qC=0.2, pM=0.8,
   qM=0.05, stages (3,4,5), every reappearance re-trained and averaged (§3.2.4).
2. GA vs random search at an equal number of trainings (§4.1.3), several seeds.
3. Dense (all-ones) vs the searched genome (§4.1.4), both re-trained with fresh seeds.
4. Paper 000 Table 1 shape: U-Net search on facades 64×64 at three γ (cost-heavy to
   quality-heavy; the later studies reuse the earlier ones' trainings, ``[study] reuse_from``),
   each best genome and pix2pix's layout trained with the same final budget.
4b. One Pareto search on facades (issue 29): objectives l_gen and MACs, the γ searches' other
   settings, stopped at the γ = 40 search's number of trainings; its front and the three γ
   searches' best genomes trained with the same final budget (``--only pareto`` runs it alone).
5. Transfer (paper 000 §4.2): the middle-γ genome and pix2pix's layout on the built-in photo
   task, never searched there, same budget.
6. What the searched U-Nets look like (paper 000 §4.3).

Everything lives under ``--out`` (studies in journal files, final trainings in
``finals.json``), so a rerun continues where it stopped and retrains nothing. Writes
``reproduction.md`` (docs/reproduction.md, by :mod:`nasga.results.reproduce`) and ``results.json``;
``--quick`` runs a miniature of every row in a few minutes (exercised by
``tests/test_reproduce.py``).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import optuna  # noqa: E402
from optuna.trial import TrialState  # noqa: E402

import nasga.evaluation.records as R  # noqa: E402
from nasga.cli import EXIT_BAD_INPUT, Parser, check_min  # noqa: E402
from nasga.compare.runs import compare  # noqa: E402
from nasga.search.config import build_space, default_config, tomllib  # noqa: E402
from nasga.search.overrides import apply_overrides  # noqa: E402
from nasga.evaluation.records import is_measurement  # noqa: E402
from nasga.results.reproduce import front_cover, markdown, md_pareto, minutes  # noqa: E402
from nasga.search.run import open_search, optimize, settle  # noqa: E402
from nasga.search.workers import spawn_workers  # noqa: E402
from nasga.results.best import pareto_front, ranking  # noqa: E402
from nasga.errors import NasgaInputError  # noqa: E402
from nasga.results.stats import generation_stats  # noqa: E402
from nasga.tasks import build_task  # noqa: E402

FACADES = ROOT.parent / "shared" / "data" / "facades"

# Every number of both modes. "full" is docs/reproduction.md's; "quick" a miniature of each row.
PLANS: dict[str, dict[str, Any]] = {
    "full": {
        "gcnn": {"stages": [3, 4, 5], "population": 20, "generations": 50, "task": {}},
        "compare": {"seeds": 3, "budget": 120},
        "dense_repeats": 5,
        "unet": {"space": {"depth": 6, "channels": [16, 32, 64, 128]}, "population": 16,
                 "generations": 10, "task": {"epochs": 5, "max_train": 100, "max_val": 50}},
        "gammas": [4.0, 40.0, 400.0],
        "final": {"epochs": 10, "seeds": [0, 1], "max_train": None, "max_val": None},
        "transfer": {"photo_task": "grey2colour", "max_train": 400, "max_val": 100},
    },
    "quick": {
        "gcnn": {"stages": [3, 4], "population": 6, "generations": 3,
                 "task": {"epochs": 5, "max_train": 600}},
        "compare": {"seeds": 2, "budget": 12},
        "dense_repeats": 2,
        "unet": {"space": {"depth": 4, "channels": [8, 16, 32]}, "population": 4,
                 "generations": 2, "task": {"image_size": 32, "epochs": 1, "max_train": 16,
                                            "max_val": 8}},
        "gammas": [4.0, 40.0, 400.0],
        "final": {"epochs": 1, "seeds": [0], "max_train": 32, "max_val": 16},
        "transfer": {"photo_task": "grey2colour", "max_train": 32, "max_val": 16},
    },
}


class Finals:
    """Final trainings (a genome, a task config, a seed), kept in ``finals.json``: none twice."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.done: dict[str, dict[str, Any]] = (
            json.loads(path.read_text()) if path.exists() else {})

    def train(self, cfg: dict[str, Any], genome: str, seed: int) -> dict[str, Any]:
        label = json.dumps([cfg["study"]["task"], cfg["space"], cfg["task"], genome, seed],
                           sort_keys=True)
        if label not in self.done:
            import tempfile

            space = build_space(cfg)
            task = build_task(space, cfg["task"])
            t0 = time.perf_counter()
            with tempfile.TemporaryDirectory() as tmp:
                ev = task.evaluate(space.parse(genome), seed=seed, workdir=Path(tmp))
            m = {k: v for k, v in ev.measurements.items() if isinstance(v, (int, float, str))}
            self.done[label] = {**m, "fitness": task.fitness(ev.measurements),
                                "seconds": time.perf_counter() - t0}
            self.path.write_text(json.dumps(self.done, indent=1))
        return self.done[label]


def run_search(cfg: dict[str, Any], url: str, workers: int) -> optuna.Study:
    """Create or resume the study of ``cfg`` and run it to its last generation."""
    import torch

    threads = torch.get_num_threads()
    search = open_search(cfg, storage_url=url)
    helpers = (spawn_workers(search.settings.study.name, search.storage_url, workers - 1)
               if workers > 1 and not search.done() else [])
    if helpers:
        torch.set_num_threads(max(1, threads // workers))  # the cores are shared while searching
    try:
        optimize(search, progress=False, log=lambda line: None)
    finally:
        for w in helpers:
            w.wait()
        torch.set_num_threads(threads)  # the final trainings run here alone: every core
    return search.study


def ranked(study: optuna.Study) -> list[tuple[str, float, int]]:
    """Genomes by mean fitness over their measurements (the GA's own), best first:
    (genome, mean, measurements), from :func:`nasga.results.best.ranking`."""
    names = {str(t.user_attrs[R.KEY]): str(t.user_attrs[R.GENOME])
             for t in reversed(study.get_trials(deepcopy=False)) if is_measurement(t.user_attrs)}
    return [(names[k], mean, n) for k, mean, n in ranking(study)]


# --- rows 1-3: Genetic CNN (paper 004) ---------------------------------------------------------
def gcnn_config(plan: dict[str, Any], mode: str) -> dict[str, Any]:
    p = plan["gcnn"]
    cfg = default_config("genetic-cnn")
    cfg["space"]["stages"] = p["stages"]
    cfg["task"].update(p["task"])
    cfg["strategy"].update({"pc": 0.2, "qc": 0.2, "pm": 0.8, "qm": 0.05, "max_evaluations": None})
    return apply_overrides(cfg, study_name="repro-gcnn-table1" + ("-quick" if mode == "quick" else ""),
                           population=p["population"], generations=p["generations"])


def rows_genetic_cnn(plan: dict[str, Any], mode: str, out: Path, workers: int,
                     finals: Finals, res: dict[str, Any]) -> None:
    cfg = gcnn_config(plan, mode)
    study = run_search(cfg, f"journal:///{out / 'genetic-cnn.log'}", workers)
    table = [r.as_dict() for r in generation_stats(study)]
    trainings = R.count_trained(study.trials)
    res["table1"] = {"rows": table, "trainings": trainings, "seconds": study_seconds(study),
                     "config": cfg}
    c = plan["compare"]
    cmp = compare(cfg, samplers=["ga", "random"], seeds=c["seeds"], budget=c["budget"],
                  out_dir=out / "ga-vs-random", max_evaluations=None,
                  storage=f"journal:///{out / 'ga-vs-random.log'}", workers=workers,
                  prefix="repro" + ("-quick" if mode == "quick" else ""), log=lambda line: None)
    res["ga_vs_random"] = {
        r.sampler + f"-s{r.seed}": {"best": r.curve[-1]["best_fitness"] if r.curve else math.nan,
                                     "incumbent": r.curve[-1]["incumbent"] if r.curve else "",
                                     "trainings": r.trainings, "sampler": r.sampler}
        for r in cmp.results}
    res["ga_vs_random_seconds"] = sum(r.wall_seconds for r in cmp.results) / workers
    searched = ranked(study)[0][0]
    space = build_space(cfg)
    dense = space.genome([1] * len(space.param_names)).to_string()
    seeds = [10_000 + i for i in range(plan["dense_repeats"])]
    res["dense"] = {name: {"genome": g, "acc": [finals.train(cfg, g, s)["val_accuracy"]
                                                 for s in seeds]}
                    for name, g in (("dense", dense), ("searched", searched))}
    res["dense_seconds"] = sum(finals.train(cfg, v["genome"], s)["seconds"]
                               for v in res["dense"].values() for s in seeds)


# --- rows 4-6: U-Net (paper 000) ----------------------------------------------------------------
def unet_config(plan: dict[str, Any], mode: str, gamma: float, facades: Path,
                reuse: list[str]) -> dict[str, Any]:
    p = plan["unet"]
    cfg = tomllib.loads((ROOT / "studies" / "unet-facades.toml").read_text())
    cfg["space"] = dict(p["space"])
    cfg["task"].update({**p["task"], "data_root": str(facades), "gamma": gamma})
    cfg["study"]["reuse_from"] = reuse
    name = f"repro-unet-g{gamma:g}" + ("-quick" if mode == "quick" else "")
    return apply_overrides(cfg, study_name=name, population=p["population"],
                           generations=p["generations"])


def final_config(cfg: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    """The final-training budget on facades: the whole split (or the plan's cap), more epochs."""
    f = plan["final"]
    out = json.loads(json.dumps(cfg))
    out["task"].update({"epochs": f["epochs"], "max_train": f.get("max_train"),
                        "max_val": f.get("max_val")})
    out["study"].pop("reuse_from", None)
    return out


def photo_config(cfg: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    """The same final budget on the built-in photo task (transfer, paper 000 §4.2)."""
    t = plan["transfer"]
    out = final_config(cfg, plan)
    keep = {k: out["task"][k] for k in ("image_size", "epochs", "gamma")}
    out["task"] = {**keep, "dataset": "photos", "photo_task": t["photo_task"],
                   "max_train": t["max_train"], "max_val": t["max_val"]}
    return out


def gamma_searches(plan: dict[str, Any], mode: str, out: Path, workers: int,
                   facades: Path) -> dict[str, Any]:
    """The three γ searches (run, resumed or read back from ``unet.log``), one row each."""
    url = f"journal:///{out / 'unet.log'}"
    order = sorted(plan["gammas"], key=lambda g: abs(math.log(g / plan["gammas"][1])))
    rows: dict[str, Any] = {}
    done: list[str] = []
    for gamma in order:  # the middle γ first; the others reuse its trainings
        cfg = unet_config(plan, mode, gamma, facades, list(done))
        study = run_search(cfg, url, workers)
        done.append(cfg["study"]["name"])
        trials = [t for t in study.trials if t.state == TrialState.COMPLETE]
        genome, fitness, _ = ranked(study)[0]
        rows[f"{gamma:g}"] = {
            "study": cfg["study"]["name"], "best": genome, "fitness": fitness,
            "trials": len(trials), "trainings": R.count_trained(trials),
            "reused": sum(R.REUSED_FROM in t.user_attrs for t in trials),
            "top": [g for g, _, _ in ranked(study)[:5]], "seconds": study_seconds(study),
            "config": cfg}
    return rows


def rows_unet(plan: dict[str, Any], mode: str, out: Path, workers: int, facades: Path,
              finals: Finals, res: dict[str, Any]) -> None:
    res["unet"] = gamma_searches(plan, mode, out, workers, facades)
    base = unet_config(plan, mode, plan["gammas"][1], facades, [])
    reference = build_space(base).reference_genome().to_string()
    genomes = {"pix2pix layout": reference}
    genomes.update({f"best at γ={g:g}": res["unet"][f"{g:g}"]["best"] for g in plan["gammas"]})
    res["facades_final"] = _finals(finals, final_config(base, plan), genomes, plan)
    res["facades_final_seconds"] = sum(sum(r["seconds"]) for r in res["facades_final"].values())
    photo = photo_config(base, plan)
    middle = res["unet"][f"{plan['gammas'][1]:g}"]["best"]
    res["transfer"] = _finals(finals, photo, {"pix2pix layout": reference,
                                              f"best at γ={plan['gammas'][1]:g}": middle}, plan)
    res["transfer_seconds"] = sum(sum(r["seconds"]) for r in res["transfer"].values())


def _finals(finals: Finals, cfg: dict[str, Any], genomes: dict[str, str],
            plan: dict[str, Any]) -> dict[str, Any]:
    rows = {}
    for name, genome in genomes.items():
        runs = [finals.train(cfg, genome, s) for s in plan["final"]["seeds"]]
        rows[name] = {"genome": genome, **{k: [float(r[k]) for r in runs]
                                           for k in ("macs", "params", "l1", "psnr", "ssim",
                                                     "l_gen", "seconds")}}
    return rows


# --- row 4b: one Pareto search (issue 29) -------------------------------------------------------
def pareto_config(plan: dict[str, Any], mode: str, facades: Path) -> dict[str, Any]:
    """The γ searches' space, K, T, task and seed with two objectives instead of one γ: the two
    terms of their fitness 1/(L_Gen + γ·GMACs) (eq. 7), ``l_gen`` and ``macs``, both minimized."""
    cfg = unet_config(plan, mode, plan["gammas"][1], facades, [])
    cfg["study"]["objectives"] = ["l_gen", "macs"]
    return apply_overrides(cfg, study_name="repro-unet-pareto" + ("-quick" if mode == "quick" else ""))


def run_capped(cfg: dict[str, Any], url: str, cap: int) -> optuna.Study:
    """Create or resume the study of ``cfg`` and run it, one trial at a time in this process,
    until its last generation or until it holds ``cap`` trainings, whichever comes first.

    One process, so the run is a function of its seed (docs/design.md, "Several objectives")
    and stops at exactly ``cap`` trainings; a resumed run first settles an interrupted one's
    retries and stale claims (:func:`nasga.search.run.settle`)."""
    search = open_search(cfg, storage_url=url)
    study = search.study
    while (not search.done()
           and R.count_trained(study.get_trials(deepcopy=False)) < cap):
        if not settle(search, lambda s, t: None):
            study.optimize(search.objective, n_trials=1)
    return study


def rows_pareto(plan: dict[str, Any], mode: str, out: Path, workers: int, facades: Path,
                finals: Finals, res: dict[str, Any]) -> None:
    """Row 4b: one Pareto search at the γ = 40 search's trainings, its front and the three γ
    searches' best genomes trained with the same final budget (the γ searches are run first
    if ``res`` lacks them: read back from ``unet.log`` when done)."""
    if "unet" not in res:
        res["unet"] = gamma_searches(plan, mode, out, workers, facades)
    cap = res["unet"][f"{plan['gammas'][1]:g}"]["trainings"]
    cfg = pareto_config(plan, mode, facades)
    study = run_capped(cfg, f"journal:///{out / 'unet.log'}", cap)
    trials = [t for t in study.trials if t.state == TrialState.COMPLETE]
    front = sorted(((m.genome, *m.values) for m in pareto_front(study)),
                   key=lambda row: (row[2], row[1]))  # cheapest first
    genomes = {f"front {i + 1}": g for i, (g, _, _) in enumerate(front)}
    bests = {f"best at γ={g:g}": res["unet"][f"{g:g}"]["best"] for g in plan["gammas"]}
    base = unet_config(plan, mode, plan["gammas"][1], facades, [])
    rows = _finals(finals, final_config(base, plan), {**genomes, **bests}, plan)
    res["pareto"] = {
        "study": cfg["study"]["name"], "objectives": cfg["study"]["objectives"], "cap": cap,
        "trials": len(trials), "trainings": R.count_trained(trials),
        "generation": max((int(t.user_attrs.get(R.GA_GENERATION, 0)) for t in trials), default=0),
        "searched": {name: {"l_gen": l_gen, "macs": macs}
                     for name, (_, l_gen, macs) in zip(genomes, front)},
        "gamma_trainings": sum(r["trainings"] for r in res["unet"].values()),
        "seconds": study_seconds(study), "final": rows,
        "final_seconds": sum(sum(r["seconds"]) for r in rows.values()),
        "cover": front_cover(rows, list(genomes), bests), "config": cfg}


# --- row 6 ---------------------------------------------------------------------------------------
def observations(res: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    """Where the top genomes of the three γ searches keep skips and put channels (§4.3)."""
    from nasga.spaces import UNetSpace

    p = plan["unet"]["space"]
    space = UNetSpace(p["depth"], tuple(p["channels"]))
    tops = [space.parse(g) for row in res["unet"].values() for g in row["top"]]
    depth = space.depth
    return {
        "n": len(tops),
        "skip_kept": [sum(g.skips[i] for g in tops) / len(tops) for i in range(depth - 1)],
        "mean_channels": [statistics.fmean(g.channels[i] for g in tops) for i in range(depth)],
        "widest_at": [sum(g.channels.index(max(g.channels)) == i for g in tops) / len(tops)
                      for i in range(depth)],
    }


def study_seconds(study: optuna.Study) -> float:
    """Wall time of a study from its trials' timestamps (first start to last completion), so a
    resumed or shared study reports its own duration, not this invocation's."""
    done = [t for t in study.get_trials(deepcopy=False) if t.datetime_complete and t.datetime_start]
    if not done:
        return 0.0
    return (max(t.datetime_complete for t in done)
            - min(t.datetime_start for t in done)).total_seconds()


def main(argv: list[str] | None = None) -> int:
    ap = Parser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a miniature of every row (minutes)")
    ap.add_argument("--out", default=None, help="folder (default repro-out, repro-quick)")
    ap.add_argument("--workers", type=int, default=2, help="processes (default 2)")
    ap.add_argument("--facades", default=str(FACADES), help="pix2pix facades folder")
    ap.add_argument("--only", choices=["pareto"], default=None,
                    help="pareto: row 4b alone (the γ searches read back from --out, or run)")
    args = ap.parse_args(argv)
    check_min(ap, 1, ("--workers", args.workers))
    facades = Path(args.facades)
    if not (facades / "train").is_dir():
        ap.error(f"--facades: no pix2pix aligned folder (train/, val/) at {str(facades)!r}")
    out = Path(args.out or ("repro-quick" if args.quick else "repro-out")).resolve()
    if out.exists() and not out.is_dir():
        ap.error(f"--out: must be a folder, got the file {str(out)!r}")
    try:
        return _reproduce(args, out, facades)
    except NasgaInputError as exc:  # e.g. a study in --out made with other settings
        print(f"{ap.prog}: error: {exc}", file=sys.stderr)
        return EXIT_BAD_INPUT


def _reproduce(args: argparse.Namespace, out: Path, facades: Path) -> int:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    mode = "quick" if args.quick else "full"
    plan = PLANS[mode]
    out.mkdir(parents=True, exist_ok=True)
    finals = Finals(out / "finals.json")
    res: dict[str, Any] = {"mode": mode}
    if args.only == "pareto":
        return _pareto_only(args, plan, mode, out, facades, finals, res)
    t0 = time.perf_counter()
    rows_genetic_cnn(plan, mode, out, args.workers, finals, res)
    print(f"rows 1-3 done ({minutes(time.perf_counter() - t0)})", flush=True)
    rows_unet(plan, mode, out, args.workers, facades, finals, res)
    rows_pareto(plan, mode, out, args.workers, facades, finals, res)
    res["observations"] = observations(res, plan)
    res["seconds"] = (res["table1"]["seconds"] + res["ga_vs_random_seconds"] + res["dense_seconds"]
                      + sum(r["seconds"] for r in res["unet"].values())
                      + res["facades_final_seconds"] + res["transfer_seconds"]
                      + res["pareto"]["seconds"] + res["pareto"]["final_seconds"])
    command = "python scripts/reproduce.py" + (" --quick" if args.quick else "")
    text = markdown(res, plan, command)
    (out / "results.json").write_text(json.dumps(res, indent=1, default=str))
    (out / "reproduction.md").write_text(text + "\n")
    print(text)
    print(f"wrote {out / 'reproduction.md'} and {out / 'results.json'}")
    return 0


def _pareto_only(args: argparse.Namespace, plan: dict[str, Any], mode: str, out: Path,
                 facades: Path, finals: Finals, res: dict[str, Any]) -> int:
    """``--only pareto``: row 4b alone, written to ``pareto.md`` and ``pareto.json``."""
    rows_pareto(plan, mode, out, args.workers, facades, finals, res)
    text = "\n".join(md_pareto(res, plan))
    (out / "pareto.json").write_text(json.dumps(res, indent=1, default=str))
    (out / "pareto.md").write_text(text + "\n")
    print(text)
    print(f"wrote {out / 'pareto.md'} and {out / 'pareto.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
