"""The "Reproduction" page (docs/reproduction.md), written from ``scripts/reproduce.py``'s results.

Pure formatting: :func:`markdown` turns the script's ``results.json`` dict (``res``) and the
plan it ran (``plan``, one of the script's ``PLANS``) into one paragraph and table per part
(rows 1-6, and 4b: one Pareto search, :func:`md_pareto`, with :func:`front_cover` deciding
whether its front covers each γ's best genome). Nothing here trains or reads a study.
"""

from __future__ import annotations

import math
import statistics
from typing import Any

import numpy as np

from nasga.compare.report import mean_se


def _fmt(values: list[float], digits: int = 4) -> str:
    """Mean ± standard error of ``values`` to ``digits`` decimals (no ± for fewer than two)."""
    mean, se = mean_se(np.asarray(values, dtype=float))
    return f"{mean:.{digits}f}" + ("" if math.isnan(se) else f" ± {se:.{digits}f}")


def minutes(seconds: float) -> str:
    """A duration for the report.

    Args:
        seconds: Wall time in seconds.

    Returns:
        Whole seconds below 90 s (``"42 s"``), otherwise minutes to one decimal (``"2.5 min"``).
    """
    return f"{seconds:.0f} s" if seconds < 90 else f"{seconds / 60:.1f} min"


def markdown(res: dict[str, Any], plan: dict[str, Any], command: str) -> str:
    """The reproduction page's results: one paragraph and table per part.

    Args:
        res: The script's results (``results.json``): every row filled in, ``seconds`` the total.
        plan: The plan the results were run with (``PLANS["full"]`` or ``PLANS["quick"]``).
        command: The command line quoted in the opening sentence.

    Returns:
        The section as markdown, without a trailing newline.
    """
    lines = [
        f"All of it: `{command}` on this machine (2 cores, no GPU); the parts took "
        f"{minutes(res['seconds'])} of wall time in all. Each part's time below is its own "
        "(the studies' trial timestamps, the runs' and trainings' clocks), so it holds across "
        "resumed invocations.",
        "",
    ]
    lines += _md_table1(res, plan)
    lines += _md_ga_vs_random(res, plan)
    lines += _md_dense(res, plan)
    lines += _md_unet(res, plan)
    if "pareto" in res:
        lines += [""] + md_pareto(res, plan)
    lines += _md_transfer(res, plan)
    lines += _md_shape(res)
    return "\n".join(lines)


def _md_table1(res: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    """Part 1: the Genetic CNN's paper 004 Table 1 rows and whether mean and median rise."""
    t1 = res["table1"]
    rows = t1["rows"]
    last = rows[-1]["generation"]
    shown = [r for r in rows if r["generation"] in {0, 1, 2, 3, 5, last} or
             r["generation"] % 10 == 0]
    g = plan["gcnn"]
    lines = [
        f"**1. Genetic CNN, paper 004 Table 1 protocol** — digits, stages {tuple(g['stages'])}, "
        f"N={g['population']}, T={g['generations']}, pC=qC=0.2, pM=0.8, qM=0.05, every "
        f"reappearance re-trained and averaged; {t1['trainings']} trainings in "
        f"{minutes(t1['seconds'])}. Values are validation accuracy (each individual's mean over "
        "its trainings).",
        "",
        "| Gen | Max | Min | Avg | Med | Std | best structure |",
        "|---:|---:|---:|---:|---:|---:|---|",
    ]
    lines += [f"| {r['generation']} | {r['max']:.4f} | {r['min']:.4f} | {r['mean']:.4f} | "
              f"{r['median']:.4f} | {r['std']:.4f} | `{r['best_genome']}` |" for r in shown]
    first = rows[0]
    lines += ["", f"Mean {first['mean']:.4f} → {rows[-1]['mean']:.4f} and median "
              f"{first['median']:.4f} → {rows[-1]['median']:.4f} from generation 0 to {last}: "
              f"{'both rise' if rows[-1]['mean'] > first['mean'] and rows[-1]['median'] > first['median'] else 'they do not both rise'}"
              f" (paper 004: both rise); the spread (Std) goes {first['std']:.4f} → "
              f"{rows[-1]['std']:.4f}.", ""]
    return lines


def _md_ga_vs_random(res: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    """Part 2: GA vs random search on an equal budget, best found per seed."""
    c = plan["compare"]
    per: dict[str, list[float]] = {}
    for r in res["ga_vs_random"].values():
        per.setdefault(r["sampler"], []).append(r["best"])
    lines = [f"**2. GA vs random search, equal budget** (§4.1.3) — the same task and space, "
             f"{c['budget']} trainings per run, {c['seeds']} seeds, every proposal trained; best "
             f"mean validation accuracy found ({minutes(res['ga_vs_random_seconds'])}, two runs at a "
             "time):", "",
             "| sampler | best found, mean ± s.e. | per seed |", "|---|---:|---|"]
    lines += [f"| {s} | {_fmt(v)} | {', '.join(f'{x:.4f}' for x in v)} |" for s, v in per.items()]
    return lines


def _md_dense(res: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    """Part 3: the dense network against the searched ones, re-trained."""
    d = res["dense"]
    lines = ["", f"**3. Dense vs searched** (§4.1.4) — each re-trained {plan['dense_repeats']} "
             f"times with fresh seeds ({minutes(res['dense_seconds'])}):", "",
             "| genome | validation accuracy, mean ± s.e. |", "|---|---:|"]
    lines += [f"| {name}: `{v['genome']}` | {_fmt(v['acc'])} |" for name, v in d.items()]
    return lines


def _md_unet(res: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    """Part 4: the U-Net searches per γ and their final trainings."""
    u = plan["unet"]
    size = next(iter(res["unet"].values()))["config"]["task"]["image_size"]
    lines = ["", f"**4. U-Net search on facades** (paper 000 Table 1 shape) — {size}×{size} "
             "label→photo, "
             f"depth {u['space']['depth']}, channels {u['space']['channels']}, K={u['population']}, "
             f"T={u['generations']}, {u['task'].get('epochs')} mini-epochs on "
             f"{u['task'].get('max_train')} training pairs; fitness 1/(L_Gen + γ·GMACs). Searches:",
             "", "| γ | trials | trainings | reused from the other γ | time | best genome |",
             "|---:|---:|---:|---:|---:|---|"]
    for gamma, r in res["unet"].items():
        lines.append(f"| {gamma} | {r['trials']} | {r['trainings']} | {r['reused']} | "
                     f"{minutes(r['seconds'])} | `{r['best']}` |")
    f = plan["final"]
    lines += ["", f"Final training, every genome the same budget ({f['epochs']} epochs on the whole "
              f"training split, validated on the whole val split, seeds {f['seeds']}; "
              f"{minutes(res['facades_final_seconds'])}):", ""]
    lines += _final_table(res["facades_final"])
    return lines


def _md_transfer(res: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    """Part 5: the middle γ's genome and pix2pix's layout on the photo task."""
    lines = ["", f"**5. Transfer** (§4.2) — the γ={plan['gammas'][1]:g} genome, searched on facades, "
              "trained on the built-in photo task (grey→colour, never searched there) against "
              f"pix2pix's layout, same budget ({minutes(res['transfer_seconds'])}):", ""]
    lines += _final_table(res["transfer"])
    return lines


def front_cover(rows: dict[str, Any], front: list[str],
                bests: dict[str, str]) -> dict[str, dict[str, Any]]:
    """For each γ's best genome, the cheapest front member at most as costly and no worse in
    final validation L1 (means over the final trainings' seeds), if any.

    Args:
        rows: Final trainings by name (``macs`` and ``l1`` lists, one per seed; ``genome``).
        front: The names in ``rows`` of the front's members.
        bests: The names in ``rows`` of the γ searches' best genomes.

    Returns:
        Per best genome's name: ``member`` (a front member's name, or None),
        ``dominates`` (that member is strictly cheaper or strictly better in L1: Pareto
        dominance) and ``same`` (it is the very genome).
    """
    def cost(name: str) -> tuple[float, float]:
        return statistics.fmean(rows[name]["macs"]), statistics.fmean(rows[name]["l1"])

    out = {}
    for name in bests:
        macs, l1 = cost(name)
        ok = sorted((cost(m), m) for m in front if cost(m)[0] <= macs and cost(m)[1] <= l1)
        member = ok[0][1] if ok else None
        out[name] = {"member": member,
                     "dominates": bool(ok) and (ok[0][0][0] < macs or ok[0][0][1] < l1),
                     "same": bool(ok) and rows[ok[0][1]]["genome"] == rows[name]["genome"]}
    return out


def md_pareto(res: dict[str, Any], plan: dict[str, Any]) -> list[str]:
    """Part 4b: one Pareto search against the three γ searches, final-trained alike."""
    p, f, middle = res["pareto"], plan["final"], f"{plan['gammas'][1]:g}"
    objectives = " and ".join(p["objectives"])
    lines = [f"**4b. One Pareto search on facades** (issue 29) — the γ searches' space, K, T, "
             f"task and seed with two objectives instead of one γ: {objectives}, both minimized; "
             f"one process, stopped at the γ = {middle} search's {p['cap']} trainings: "
             f"{p['trainings']} trainings in {p['trials']} trials, reaching generation "
             f"{p['generation']} of {plan['unet']['generations']}, {minutes(p['seconds'])} "
             f"(the three γ searches: {p['gamma_trainings']} trainings together). Its front at "
             f"the end: {len(p['searched'])} genome{'' if len(p['searched']) == 1 else 's'}. Final training as in 4 ({f['epochs']} "
             f"epochs, seeds {f['seeds']}; {minutes(p['final_seconds'])} on the trainings' "
             "clocks, the γ genomes' shared with 4):", ""]
    lines += _final_table(p["final"])
    lines += ["", "For each γ, the cheapest front member at most as costly as the γ search's "
              "best genome and no worse in final val L1:", "",
              "| γ best | MMACs | val L1 | front member | MMACs | val L1 | |",
              "|---|---:|---:|---|---:|---:|---|"]
    rows = p["final"]

    def cells(name: str) -> str:
        r = rows[name]
        return f"{statistics.fmean(r['macs']) / 1e6:,.1f} | {_fmt(r['l1'])}"

    for name, c in p["cover"].items():
        member = c["member"]
        verdict = ("the same genome" if c["same"] else "dominates" if c["dominates"]
                   else "equal" if member else "none")
        right = (f"{member}: `{rows[member]['genome']}` | {cells(member)}" if member
                 else "none | | ")
        lines.append(f"| {name}: `{rows[name]['genome']}` | {cells(name)} | {right} | {verdict} |")
    missing = [n.removeprefix("best at ") for n, c in p["cover"].items() if not c["member"]]
    fewer = p["trainings"] < p["gamma_trainings"]
    lines += ["", "The goal (for each γ a front member at most as costly and no worse in val L1, "
              "with fewer trainings than the three γ searches): "
              + ("holds" if not missing and fewer else "does not hold")
              + (f"; no such member for {', '.join(missing)}" if missing else "")
              + f" ({p['trainings']} vs {p['gamma_trainings']} trainings).", ""]
    return lines


def _md_shape(res: dict[str, Any]) -> list[str]:
    """Part 6: what the searched U-Nets look like (skips kept, channels, widest layer)."""
    o = res["observations"]
    skips = ", ".join(f"{x:.0%}" for x in o["skip_kept"])
    chans = ", ".join(f"{x:.0f}" for x in o["mean_channels"])
    widest = ", ".join(f"{x:.0%}" for x in o["widest_at"])
    return ["", f"**6. What the searched U-Nets look like** (§4.3) — the top 5 genomes of each γ "
            f"({o['n']} in all), levels outermost first: skip kept {skips}; mean channels "
            f"{chans}; widest layer at each level {widest}.", ""]


def _final_table(rows: dict[str, Any]) -> list[str]:
    """Final trainings: one row per genome (cost, size and validation metrics over seeds)."""
    out = ["| genome | MMACs | params (MB) | val L1 | PSNR dB | SSIM | train s |",
           "|---|---:|---:|---:|---:|---:|---:|"]
    for name, r in rows.items():
        out.append(
            f"| {name}: `{r['genome']}` | {statistics.fmean(r['macs']) / 1e6:,.1f} | "
            f"{statistics.fmean(r['params']) * 4 / 2**20:.2f} | {_fmt(r['l1'])} | "
            f"{_fmt(r['psnr'], 2)} | {_fmt(r['ssim'], 3)} | {statistics.fmean(r['seconds']):.0f} |")
    return out
