"""The "Reproduction" page (docs/reproduction.md), written from ``scripts/reproduce.py``'s results.

Pure formatting: :func:`markdown` turns the script's ``results.json`` dict (``res``) and the
plan it ran (``plan``, one of the script's ``PLANS``) into one paragraph and table per part
(rows 1-6). Nothing here trains or reads a study.
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
    """Parts 4 and 5: the U-Net searches per γ, their final trainings and the transfer."""
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
    lines += ["", f"**5. Transfer** (§4.2) — the γ={plan['gammas'][1]:g} genome, searched on facades, "
              "trained on the built-in photo task (grey→colour, never searched there) against "
              f"pix2pix's layout, same budget ({minutes(res['transfer_seconds'])}):", ""]
    lines += _final_table(res["transfer"])
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
