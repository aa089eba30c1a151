"""``nasga run`` and ``nasga worker``: a search from its study config and command-line
overrides, with local worker processes per device."""

from __future__ import annotations

import argparse

from nasga.samplers.registry import SAMPLER_NAMES, STUDY_SAMPLERS, sampler_help
from nasga.search.pruners import PRUNERS
from nasga.errors import NasgaInputError, check_int
from nasga.search.workers import MAX_WORKERS


def add_search_flags(p: argparse.ArgumentParser) -> None:
    """Flags of ``run``: the study config and its overrides. Each override's help names the
    config field it sets (``TABLE.KEY``), since a flag's name need not be its key's."""
    from nasga.search.studies import shipped_studies

    p.add_argument("--task", choices=["unet", "genetic-cnn"], default=None,
                   help="search space and task (study.task); its default study is the "
                        "shipped studies/<task>.toml (default: unet)")
    p.add_argument("--study", dest="study_file", default=None, metavar="FILE",
                   help="study config file (TOML with the tables [study], [strategy], [space], "
                        "[task]), e.g. studies/unet-facades.toml, or the name of a shipped study "
                        "where no such file exists (" + ", ".join(shipped_studies()) + "); the "
                        "study's name is study.name (--study-name)")
    p.add_argument("--storage", default=None, metavar="URL",
                   help="sqlite:///FILE.db, journal:///FILE.log or postgresql://USER:PASS@HOST/DB "
                        "(overrides study.storage; default: an SQLite file under studies/, a "
                        "journal file with --workers)")
    p.add_argument("--population", type=int, default=None,
                   help="individuals per generation, strategy.population (paper: N=20 "
                        "genetic-cnn, K=32 unet)")
    p.add_argument("--generations", type=int, default=None,
                   help="total bred generations after the initial one, strategy.generations "
                        "(paper: T=50 / T=100)")
    p.add_argument("--gamma", type=float, default=None,
                   help="unet: cost weight γ in fitness 1/(L_Gen + γ·GMACs) (paper 000 eq. 7), "
                        "task.gamma")
    p.add_argument("--max-evaluations", type=int, default=None,
                   help="trainings per genome before it is answered from the cache, "
                        "strategy.max_evaluations (0: train every reappearance, as paper 004)")
    p.add_argument("--data-root", default=None, metavar="DIR",
                   help="local dataset folder, task.data_root: a pix2pix aligned folder "
                        "(train/, val/) for "
                        "unet, cifar-10-batches-py for genetic-cnn; a study on the built-in "
                        "photos/digits switches to it (aligned/cifar10)")
    p.add_argument("--image-size", type=int, default=None, help="unet: image height/width, task.image_size")
    p.add_argument("--seed", type=int, default=None, help="one seed for sampler, operators, torch "
                                                                   "(study.seed)")
    p.add_argument("--device", default=None, help="auto, cpu or cuda (task.device)")
    p.add_argument("--sampler", default=None,
                   choices=list(STUDY_SAMPLERS), metavar="NAME",
                   help="study.sampler, one of: " + sampler_help(STUDY_SAMPLERS) + " (default: "
                        "ga). nasga compare --samplers also takes " + ", ".join(
                            n for n in SAMPLER_NAMES if n not in STUDY_SAMPLERS))
    p.add_argument("--pruner", default=None, choices=list(PRUNERS), metavar="NAME",
                   help="study.pruner, one of: " + ", ".join(PRUNERS) + " (default: none); "
                        "its parameters: --set 'study.pruner={\"name\": \"hyperband\", "
                        "\"reduction_factor\": 3}'")
    add_fuse_flag(p, "task.fuse")
    p.add_argument("--set", dest="settings", action="append", default=[],
                   metavar="TABLE.KEY=VALUE",
                   help="override a config value (JSON value), e.g. --set task.epochs=1 "
                        "--set space.channels=[8,16]; repeatable, applied before the flags")


def add_fuse_flag(p: argparse.ArgumentParser, field: str) -> None:
    p.add_argument("--fuse", type=int, default=None, metavar="K",
                   help=f"train up to K claimable genomes as one fused network, each still its "
                        f"own trial with its own measurements ({field}; default 1: off); "
                        "genetic-cnn only, no --pruner")


def config_from_args(args: argparse.Namespace) -> dict:
    """The validated config: study file (or the task's default) + ``--set``s + flags, validated
    once (a study that needs ``--data-root`` gets it before validation)."""
    from nasga.search.config import default_raw, load_raw
    from nasga.search.overrides import apply_overrides

    raw = (load_raw(args.study_file) if args.study_file is not None
           else default_raw(args.task or "unet"))
    study = raw.get("study")
    task = study.get("task", "unet") if isinstance(study, dict) else None
    if args.study_file and args.task and isinstance(task, str) and args.task != task:
        raise NasgaInputError("task", f"{args.study_file} is a {task!r} study, got --task "
                              f"{args.task}")
    return apply_overrides(
        raw, settings=getattr(args, "settings", ()),
        study_name=getattr(args, "study_name", None), sampler=args.sampler, seed=args.seed,
        storage=None, population=args.population, generations=args.generations,
        max_evaluations=args.max_evaluations, gamma=args.gamma, data_root=args.data_root,
        image_size=args.image_size, device=args.device,
        reuse_from=getattr(args, "reuse_from", None), pruner=getattr(args, "pruner", None),
        fuse=getattr(args, "fuse", None),
    )


def add_run(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run (or resume) a genetic search",
                       description="Run or resume a search; re-running the same command "
                                   "continues the study where it stopped.",
                       example="nasga run --task unet --generations 3")
    add_search_flags(p)
    p.add_argument("--study-name", default=None,
                   help="study name, study.name (default: the config's)")
    p.add_argument("--reuse-from", action="append", default=None, metavar="STUDY",
                   help="reuse the trainings of this study in the same storage (the same search "
                        "at another γ: no genome is trained twice), study.reuse_from; repeatable")
    add_device_flags(p)
    p.add_argument("--confirm", type=int, default=0, metavar="K",
                   help="after the run, train the K genomes with the best mean fitness again "
                        "until each has 3 trainings, so the best genome named is not one lucky "
                        "training; with several objectives, the first K members of the Pareto "
                        "front by crowding distance, until the front's first K are confirmed "
                        "(default 0: off)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_run)


def add_device_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=int, default=1,
                   help="local processes per device working on the study, this one included "
                        "(default 1; more than one process in all: journal storage by default)")
    p.add_argument("--devices", default=None, metavar="LIST",
                   help="devices the local processes train on, round-robin, e.g. cuda:0,cuda:1 "
                        "or cpu; overrides task.device for these processes only (default: "
                        "every visible GPU where task.device is auto or cuda, else task.device)")


def _local_plan(args: argparse.Namespace, task_device: str) -> tuple[list, str | None]:
    """The checked plan of this command's processes and this process's device override."""
    from nasga.search.devices import local_plan

    plans, override = local_plan(args.workers, args.devices, task_device)
    return plans, plans[0].device if override else None


def _cmd_run(args: argparse.Namespace) -> int:
    from nasga.search.run import open_search, optimize
    from nasga.search.summary import summary
    from nasga.storages.storage import resolve_storage
    from nasga.search.workers import spawn_workers

    check_int("workers", args.workers, maximum=MAX_WORKERS)
    check_int("confirm", args.confirm, minimum=0)
    from nasga.search.devices import check_devices, parse_devices

    if args.devices is not None:
        check_devices(parse_devices(args.devices))  # bad devices before the config is read
    cfg = config_from_args(args)
    plans, device = _local_plan(args, cfg["task"].get("device", "auto"))
    url = resolve_storage(cfg, args.storage, workers=len(plans))
    if len(plans) > 1:
        from nasga.search.devices import apply_threads

        apply_threads(plans[0])  # before any torch work in this process
    search = open_search(cfg, storage_url=url, device=device)
    print(f"study {cfg['study']['name']!r}: task {cfg['study']['task']}, sampler "
          f"{cfg['study']['sampler']}, population {search.population}, generations 0..{search.generations}")
    if len(plans) > 1 or device is not None:
        from nasga.search.devices import plan_line

        print(f"workers: {plan_line(plans)}")
    from nasga.search.interrupts import Interrupted, TrialGuard, signal_of, stop_workers

    guard = TrialGuard(search.study, window=search.fuse + 2)
    workers = (spawn_workers(search.settings.study.name, search.storage_url, plans[1:])
               if len(plans) > 1 else [])
    try:
        optimize(search, progress=not args.quiet)
    except KeyboardInterrupt as exc:  # SIGINT or SIGTERM (nasga.search.interrupts): one line, resumable
        signum = signal_of(exc)
        trials = guard.fail_running(signum)
        raise Interrupted(signum, trials, stop_workers(workers, signum)) from None
    finally:
        for w in workers:
            w.wait()
    if args.confirm:  # after the workers are gone: this process runs every retraining
        from nasga.search.confirm import confirm

        try:
            confirm(search, top_k=args.confirm)
        except KeyboardInterrupt as exc:
            signum = signal_of(exc)
            raise Interrupted(signum, guard.fail_running(signum)) from None
    print(summary(search))
    return 0


def add_worker(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("worker", help="join an existing study with its stored configuration",
                       example="nasga worker --storage journal:///studies/unet.log "
                               "--study-name unet")
    p.add_argument("--storage", default=None, metavar="URL",
                   help="the study's storage (default: $NASGA_STORAGE)")
    p.add_argument("--study-name", required=True, help="the study to join")
    add_device_flags(p)
    add_fuse_flag(p, "this command's processes only; default: the study's task.fuse")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=_cmd_worker)


def _cmd_worker(args: argparse.Namespace) -> int:
    import os

    from nasga.search.run import load_search, optimize
    from nasga.search.workers import STORAGE_ENV

    url = args.storage or os.environ.get(STORAGE_ENV)
    if not url:
        raise NasgaInputError("storage", f"give --storage URL or set ${STORAGE_ENV}")
    check_int("workers", args.workers, maximum=MAX_WORKERS)
    from nasga.storages.storage import check_processes

    check_processes(url, args.workers)
    from nasga.search.devices import DEVICE_ENV, apply_threads, check_devices, parse_devices

    if args.devices is None and os.environ.get(DEVICE_ENV):  # spawned by nasga run / worker
        args.devices = os.environ[DEVICE_ENV]
    if args.devices is not None:
        check_devices(parse_devices(args.devices))
    from nasga.search.interrupts import Interrupted, TrialGuard, signal_of, stop_workers
    from nasga.search.workers import spawn_workers

    if args.devices is not None:  # the devices are named: no need for the study's task.device
        plans, device = _local_plan(args, "auto")
        search = load_search(url, args.study_name, device=device, fuse=args.fuse)
    else:
        search = load_search(url, args.study_name, fuse=args.fuse)
        plans, device = _local_plan(args, search.settings.task.get("device", "auto"))
        if device is not None:  # several processes on the default devices
            search = load_search(url, args.study_name, device=device, fuse=args.fuse)
    check_processes(url, len(plans))
    if len(plans) > 1:
        apply_threads(plans[0])
    guard = TrialGuard(search.study, window=search.fuse + 2)
    workers = (spawn_workers(search.settings.study.name, search.storage_url, plans[1:],
                             fuse=args.fuse) if len(plans) > 1 else [])
    try:
        optimize(search, progress=not args.quiet,
                 log=(lambda line: None) if args.quiet else print)
    except KeyboardInterrupt as exc:  # SIGINT or SIGTERM: the running trial FAILs, resumable
        signum = signal_of(exc)
        raise Interrupted(signum, guard.fail_running(signum), stop_workers(workers, signum)) \
            from None
    finally:
        for w in workers:
            w.wait()
    return 0
