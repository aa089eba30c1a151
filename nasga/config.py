"""Study configuration: one TOML file per study in ``studies/``, validated once.

A config has four tables::

    [study]     name, task ("unet" | "genetic-cnn"), sampler, seed, storage (optional),
                heartbeat_interval, grace_period (seconds; a dead worker's trial is failed and
                retried after grace_period), reuse_from (names of studies in the same storage
                whose trainings are reused: the same search at another γ)
    [space]     unet: depth, channels  |  genetic-cnn: stages
    [strategy]  the preset's numbers (population, generations, probabilities, max_evaluations)
    [task]      the task's settings (dataset, epochs, image_size, gamma, device, ...)

Every error names the key as ``table.key`` with the rule and the value. The resolved config
(after command-line overrides) is a plain dict, stored in the study's user attrs so that a
worker or a later run rebuilds exactly the same search.
"""

from __future__ import annotations

import copy
import sys
from pathlib import Path
from typing import Any

from nasga.spaces import GeneticCNNSpace, NasgaInputError, Space, UNetSpace

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

TASKS = ("unet", "genetic-cnn")
SAMPLERS = ("ga", "random", "tpe", "gp", "nsga2", "qmc", "cmaes")
_TABLES = ("study", "space", "strategy", "task")
_STUDY_KEYS = {"name": str, "task": str, "sampler": str, "seed": int, "storage": str,
               "heartbeat_interval": int, "grace_period": int, "reuse_from": list}
_SPACE_KEYS = {"unet": {"depth": int, "channels": list}, "genetic-cnn": {"stages": list}}
STUDIES_DIR = Path("studies")


def _type_name(t: type) -> str:
    return {str: "a string", int: "an integer", list: "a list", float: "a number"}.get(t, t.__name__)


def _check_type(field: str, value: Any, t: type) -> None:
    ok = isinstance(value, t) and not (t is int and isinstance(value, bool))
    if not ok:
        raise NasgaInputError(field, f"must be {_type_name(t)}, got {value!r}")


def default_config(task: str) -> dict[str, Any]:
    """The built-in default of a task: the config its study file would hold."""
    if task not in TASKS:
        raise NasgaInputError("study.task", f"must be one of {', '.join(TASKS)}, got {task!r}")
    path = Path(__file__).resolve().parent.parent / STUDIES_DIR / f"{task}.toml"
    if path.exists():
        return load_config(path)
    return validate({"study": {"name": task, "task": task}})


def load_config(path: str | Path) -> dict[str, Any]:
    """Read and validate a study file.

    Raises:
        NasgaInputError: Missing or unreadable file, TOML syntax error, or a bad key/value.
    """
    p = Path(path)
    if not p.is_file():
        raise NasgaInputError("study", f"no such config file {str(p)!r}")
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise NasgaInputError("study", f"{p}: invalid TOML: {exc}") from None
    return validate(raw)


def validate(raw: dict[str, Any]) -> dict[str, Any]:
    """Validate a config dict (from TOML or the study's stored attrs); returns a resolved copy.

    The space, strategy and task are built once here, so every bad value is reported before
    anything touches storage.
    """
    cfg = copy.deepcopy(raw)
    for table in cfg:
        if table not in _TABLES:
            raise NasgaInputError(table, f"unknown table; known: {', '.join(_TABLES)}")
        if not isinstance(cfg[table], dict):
            raise NasgaInputError(table, f"must be a table, got {cfg[table]!r}")
    for table in _TABLES:
        cfg.setdefault(table, {})
    study = cfg["study"]
    for key, value in study.items():
        if key not in _STUDY_KEYS:
            raise NasgaInputError(f"study.{key}", f"unknown key; known: {', '.join(_STUDY_KEYS)}")
        _check_type(f"study.{key}", value, _STUDY_KEYS[key])
    task = study.setdefault("task", "unet")
    if task not in TASKS:
        raise NasgaInputError("study.task", f"must be one of {', '.join(TASKS)}, got {task!r}")
    study.setdefault("name", task)
    study.setdefault("sampler", "ga")
    study.setdefault("seed", 0)
    study.setdefault("heartbeat_interval", 10)
    study.setdefault("grace_period", 30)
    if study["heartbeat_interval"] < 1 or study["grace_period"] <= study["heartbeat_interval"]:
        raise NasgaInputError(
            "study.grace_period", "heartbeats need heartbeat_interval >= 1 and grace_period > "
            f"heartbeat_interval, got {study['heartbeat_interval']} and {study['grace_period']}"
        )
    for other in study.get("reuse_from", []):
        if not isinstance(other, str) or not other or other == study["name"]:
            raise NasgaInputError("study.reuse_from", "entries must be names of other studies, "
                                  f"got {other!r}")
    if study["sampler"] not in SAMPLERS:
        raise NasgaInputError(
            "study.sampler", f"must be one of {', '.join(SAMPLERS)}, got {study['sampler']!r}"
        )
    build_space(cfg)
    cfg["strategy"] = strategy_config(cfg)
    from nasga.tasks import build_task

    build_task(build_space(cfg), cfg["task"])  # validates every task key
    return cfg


def build_space(cfg: dict[str, Any]) -> Space:
    """The genome space of a config."""
    task = cfg["study"]["task"]
    space_cfg = cfg.get("space", {})
    known = _SPACE_KEYS[task]
    for key, value in space_cfg.items():
        if key not in known:
            raise NasgaInputError(f"space.{key}", f"unknown key for task {task!r}; known: "
                                  f"{', '.join(known)}")
        _check_type(f"space.{key}", value, known[key])
    if task == "genetic-cnn":
        stages = space_cfg.get("stages", [3, 4, 5])
        _int_list("space.stages", stages)
        return GeneticCNNSpace(tuple(stages))
    channels = space_cfg.get("channels", [64, 128, 256, 512])
    _int_list("space.channels", channels)
    try:
        return UNetSpace(space_cfg.get("depth", 8), tuple(channels))
    except NasgaInputError as exc:
        raise NasgaInputError(f"space.{exc.field}", str(exc).split(": ", 1)[1]) from None


def _int_list(field: str, values: list[Any]) -> None:
    if not values:
        raise NasgaInputError(field, "must not be empty")
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise NasgaInputError(field, f"entries must be positive integers, got {v!r}")


def strategy_config(cfg: dict[str, Any]) -> dict[str, Any]:
    """The full, validated strategy numbers (preset defaults + the config's overrides)."""
    from nasga.strategies import get_strategy

    overrides = dict(cfg.get("strategy", {}))
    preset = overrides.pop("preset", cfg["study"]["task"])
    if overrides.get("max_evaluations") == 0:  # TOML has no null: 0 = train every reappearance
        overrides["max_evaluations"] = None
    if preset not in ("unet", "genetic-cnn") or preset != cfg["study"]["task"]:
        raise NasgaInputError(
            "strategy.preset", f"must match study.task {cfg['study']['task']!r}, got {preset!r}"
        )
    try:
        strategy = get_strategy(preset, **overrides)
    except NasgaInputError as exc:
        raise NasgaInputError(f"strategy.{exc.field}", str(exc).split(": ", 1)[1]) from None
    import dataclasses

    return {"preset": preset, **dataclasses.asdict(strategy)}


def build_strategy(cfg: dict[str, Any]) -> Any:
    """The strategy object of a validated config."""
    from nasga.strategies import get_strategy

    numbers = dict(cfg["strategy"])
    return get_strategy(numbers.pop("preset"), **numbers)


def apply_overrides(cfg: dict[str, Any], **flags: Any) -> dict[str, Any]:
    """Command-line flags on top of a config, re-validated. ``None`` values are ignored.

    Flags: ``study_name``, ``sampler``, ``seed``, ``storage``, ``population``,
    ``generations``, ``max_evaluations``, ``gamma``, ``data_root``, ``image_size``, ``device``,
    ``reuse_from``.
    """
    out = copy.deepcopy(cfg)
    table_of = {
        "study_name": ("study", "name"), "sampler": ("study", "sampler"),
        "seed": ("study", "seed"), "storage": ("study", "storage"),
        "population": ("strategy", "population"), "generations": ("strategy", "generations"),
        "max_evaluations": ("strategy", "max_evaluations"), "gamma": ("task", "gamma"),
        "data_root": ("task", "data_root"), "image_size": ("task", "image_size"),
        "device": ("task", "device"), "reuse_from": ("study", "reuse_from"),
    }
    for flag, value in flags.items():
        if value is None:
            continue
        table, key = table_of[flag]
        if flag == "max_evaluations" and value == 0:
            value = None  # 0 on the command line: train every reappearance
        out[table][key] = value
    if flags.get("gamma") is not None and out["study"]["task"] != "unet":
        raise NasgaInputError("gamma", "only the unet task has a cost weight γ")
    return validate(out)
