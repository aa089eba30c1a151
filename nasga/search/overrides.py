"""Command-line overrides on a study config: ``--set TABLE.KEY=VALUE`` and the flags of
``nasga run`` / ``nasga compare``, validated once at the end (:func:`apply_overrides`), and the
data check that runs before any storage is touched (:func:`check_data`)."""

from __future__ import annotations

import copy
import json
from collections.abc import Sequence
from typing import Any

from nasga.errors import NasgaInputError
from nasga.search.config import (
    MAX_NESTING, TABLES, TASKS, build_space, check_nesting, validate,
)

BUILTIN_DATASETS = {"unet": ("photos", "aligned", ("photo_task",)),
                    "genetic-cnn": ("digits", "cifar10", ())}


def apply_settings(cfg: dict[str, Any], settings: Sequence[str]) -> dict[str, Any]:
    """``TABLE.KEY=VALUE`` settings (JSON values, plain text if not JSON) on a copy of ``cfg``.

    Raises:
        NasgaInputError: A malformed setting or an unknown table (field ``set``).
    """
    out = copy.deepcopy(cfg)
    for item in settings:
        name, sep, text = item.partition("=")
        table, dot, key = name.strip().partition(".")
        if not sep or not dot or table not in out or not key:
            raise NasgaInputError("set", f"expected TABLE.KEY=VALUE with TABLE one of "
                                  f"{', '.join(out)}, got {item!r}")
        try:
            value = json.loads(text)
        except json.JSONDecodeError:
            value = text
        except RecursionError:
            raise NasgaInputError(f"{table}.{key.strip()}", f"nests lists or tables more "
                                  f"than {MAX_NESTING} deep") from None
        out[table][key.strip()] = check_nesting(value, f"{table}.{key.strip()}")
    return out


def apply_overrides(cfg: dict[str, Any], *, settings: Sequence[str] = (),
                    **flags: Any) -> dict[str, Any]:
    """Command-line overrides on a config (raw TOML or validated), validated once at the end.

    ``settings`` (``--set TABLE.KEY=VALUE``) go first, then the flags; ``None`` flags are
    ignored. Flags: ``study_name``, ``sampler``, ``seed``, ``storage``, ``population``,
    ``generations``, ``max_evaluations``, ``gamma``, ``data_root``, ``image_size``, ``device``,
    ``reuse_from``, ``pruner``, ``fuse``.

    A ``task.data_root`` means real data: a config on its task's built-in dataset (``photos``,
    ``digits``, or none given) switches to the real one (``aligned``, ``cifar10``) and drops the
    keys only the built-in dataset reads (``photo_task``); a built-in dataset chosen with
    ``--set task.dataset=...`` next to a data root is refused. The data folder is checked
    (:func:`check_data`) so that a missing one stops before anything is written.
    """
    out = copy.deepcopy(cfg)
    for table in TABLES:
        if table in out and not isinstance(out[table], dict):
            raise NasgaInputError(table, f"must be a table, got {out[table]!r}")
        out.setdefault(table, {})
    out = apply_settings(out, settings)
    table_of = {
        "study_name": ("study", "name"), "sampler": ("study", "sampler"),
        "seed": ("study", "seed"), "storage": ("study", "storage"),
        "population": ("strategy", "population"), "generations": ("strategy", "generations"),
        "max_evaluations": ("strategy", "max_evaluations"), "gamma": ("task", "gamma"),
        "data_root": ("task", "data_root"), "image_size": ("task", "image_size"),
        "device": ("task", "device"), "reuse_from": ("study", "reuse_from"),
        "pruner": ("study", "pruner"), "fuse": ("task", "fuse"),
    }
    for flag, value in flags.items():
        if value is None:
            continue
        table, key = table_of[flag]
        out[table][key] = value  # max_evaluations 0 becomes None in strategy_config
    task = out["study"].get("task", "unet")
    if flags.get("gamma") is not None and task in TASKS and task != "unet":
        raise NasgaInputError("gamma", "only the unet task has a cost weight γ")
    if (isinstance(task, str) and task in BUILTIN_DATASETS
            and out["task"].get("task") in (None, task)  # not another task on the space
            and out["task"].get("data_root") is not None):
        builtin, real, builtin_only = BUILTIN_DATASETS[task]
        dataset = out["task"].get("dataset", builtin)
        if dataset == builtin:
            if any(s.partition("=")[0].strip() == "task.dataset" for s in settings):
                raise NasgaInputError(
                    "task.dataset", f"{builtin!r} is built in and reads no folder, but a data "
                    f"root was given ({out['task']['data_root']!r}); drop one of them")
            out["task"]["dataset"] = real
            for key in builtin_only:
                out["task"].pop(key, None)
    resolved = validate(out)
    check_data(resolved)
    return resolved


def check_data(cfg: dict[str, Any]) -> None:
    """Everything a validated config's run can check before its first trial, before any
    storage is touched: the task's ``check_data`` (the dataset folder, every file the run
    reads decoded, the device, the smallest genome fitting in memory).

    Raises:
        NasgaInputError: ``task.FIELD`` naming the setting, the rule and the value (the bad file
            for ``task.data_root``).
    """
    from nasga.tasks import build_task

    task = build_task(build_space(cfg), cfg["task"])
    check = getattr(task, "check_data", None)
    if check is None:
        return
    try:
        check()
    except NasgaInputError as exc:
        raise exc.within("task") from None
