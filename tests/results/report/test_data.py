"""nasga.results.report.data on hand-built studies: known values per generation, parents, losses, MACs."""

from __future__ import annotations

import math

import optuna
import pytest
import torch
from optuna.trial import TrialState, create_trial

from nasga.models import UNetGenerator
from nasga.results.report import data as D
from nasga.spaces import GeneticCNNSpace, UNetSpace
from nasga.storages.storage import CONFIG_ATTR

GAMMA = 10.0


def _add(study: optuna.Study, value: float | None, **attrs: object) -> None:
    state = TrialState.FAIL if value is None else TrialState.COMPLETE
    study.add_trial(create_trial(state=state, value=value, user_attrs=dict(attrs)))


@pytest.fixture()
def table_study() -> optuna.Study:
    """Generation 0: 1, 2, 3, 6; generation 1: 4, 6, 6, 8 (one cached); one failed trial."""
    study = optuna.create_study(direction="maximize")
    for i, v in enumerate([1.0, 2.0, 3.0, 6.0]):
        _add(study, v, ga_generation=0, genome=f"g0-{i}", cached=False)
    for i, v in enumerate([4.0, 6.0, 8.0, 6.0]):
        _add(study, v, ga_generation=1, genome=f"g1-{i}", cached=i == 3)
    _add(study, None, ga_generation=1, genome="failed")
    return study


def test_generation_table_numbers(table_study: optuna.Study) -> None:
    g0, g1 = D.generation_table(table_study)
    assert (g0.generation, g0.n, g0.max, g0.min, g0.mean, g0.median) == (0, 4, 6.0, 1.0, 3.0, 2.5)
    assert g0.std == pytest.approx(math.sqrt(3.5))  # population s.d.: (4 + 1 + 0 + 9) / 4
    assert (g0.best_genome, g0.cached_share) == ("g0-3", 0.0)
    assert (g1.generation, g1.n, g1.max, g1.min, g1.mean, g1.median) == (1, 4, 8.0, 4.0, 6.0, 6.0)
    assert g1.std == pytest.approx(math.sqrt(2.0))
    assert (g1.best_genome, g1.cached_share) == ("g1-2", 0.25)
    assert D.best_trial(table_study).number == 6


def test_generation_table_groups_baseline_trials_by_population() -> None:
    study = optuna.create_study(direction="maximize")
    study.set_user_attr(CONFIG_ATTR, {"study": {"task": "unet", "sampler": "tpe"},
                                      "strategy": {"population": 3}})
    for v in [1.0, 2.0, 3.0, 10.0, 20.0]:
        _add(study, v, genome=str(v))
    rows = D.generation_table(study)
    assert [(r.generation, r.n, r.mean) for r in rows] == [(0, 3, 2.0), (1, 2, 15.0)]
    assert D.lineage_pairs(study) == []


# --- a hand-built U-Net study: l_gen, MACs, parents ------------------------------------------
# genome: (l_gen, MACs); fitness = 1 / (l_gen + γ·GMACs) with γ = 10.
A, B, C, D_, E, F = "A", "B", "C", "D", "E", "F"
COST = {A: (30.0, 100e6), B: (25.0, 250e6), C: (35.0, 50e6), D_: (32.0, 200e6),
        E: (28.0, 100e6), F: (24.0, 400e6)}


def _fit(l_gen: float, macs: float) -> float:
    return 1.0 / (l_gen + GAMMA * macs / 1e9)


@pytest.fixture()
def unet_study() -> optuna.Study:
    study = optuna.create_study(direction="maximize")

    def trained(genome: str, gen: int, op: str, parents: list[int], l_gen: float | None = None,
                value: float | None = None) -> None:
        loss, g = COST[genome]
        loss = loss if l_gen is None else l_gen
        f = _fit(loss, g)
        _add(study, f if value is None else value, genome=genome, key=f"unet/{genome}",
             trained=True, cached=False, l_gen=loss, macs=g, fitness_raw=f,
             ga_generation=gen, ga_operator=op, ga_parents=parents)

    for g in (A, B, C, D_):  # trials 0-3: the random initial population
        trained(g, 0, "random", [])
    loss, g = COST[B]  # trial 4: the elite, answered from the cache
    _add(study, _fit(loss, g), genome=B, key="unet/B", trained=False, cached=True, l_gen=loss,
         macs=g, ga_generation=1, ga_operator="elite", ga_parents=[1])
    trained(E, 1, "crossover", [0, 2])  # trial 5
    trained(F, 1, "mutation", [1])  # trial 6
    trained(D_, 1, "copy", [3], l_gen=34.0,  # trial 7: D trained again, value = mean fitness
            value=(_fit(32.0, 200e6) + _fit(34.0, 200e6)) / 2)
    _add(study, None, ga_generation=1, ga_operator="mutation", ga_parents=[0])  # trial 8: failed
    trained(A, 1, "mutation", [8])  # trial 9: its parent failed, so no pair
    return study


def test_lineage_pairs(unet_study: optuna.Study) -> None:
    pairs = D.lineage_pairs(unet_study)
    got = [(p.child, p.generation, p.operator, p.parents) for p in pairs]
    assert got == [(4, 1, "elite", (1,)), (5, 1, "crossover", (0, 2)), (6, 1, "mutation", (1,)),
                   (7, 1, "copy", (3,))]
    by_child = {p.child: p for p in pairs}
    assert by_child[5].parent_values == pytest.approx((1 / 31, 1 / 35.5))
    assert by_child[5].parent_mean == pytest.approx((1 / 31 + 1 / 35.5) / 2)
    assert by_child[5].child_value == pytest.approx(1 / 29)
    assert by_child[4].child_value == pytest.approx(1 / 27.5) == by_child[4].parent_mean
    assert by_child[7].child_value == pytest.approx((1 / 34 + 1 / 36) / 2)
    assert by_child[7].parent_values == pytest.approx((1 / 34,))
    # One training's fitness instead of the key's running mean:
    raw = {p.child: p.child_value for p in D.lineage_pairs(unet_study, attr="fitness_raw")}
    assert raw[7] == pytest.approx(1 / 36) and 4 not in raw  # the cached elite has no raw value


def test_cost_points_and_pareto_front(unet_study: optuna.Study) -> None:
    points = {p.genome: p for p in D.cost_points(unet_study)}
    assert sorted(points) == [A, B, C, D_, E, F]  # one point per key; cached trial 4 adds none
    assert points[D_].trials == (3, 7) and points[D_].l_gen == pytest.approx(33.0)
    assert points[D_].fitness == pytest.approx((1 / 34 + 1 / 36) / 2)
    assert points[A].trials == (0, 9) and points[B].trials == (1,)
    assert points[C].gmacs == pytest.approx(0.05) and points[C].generation == 0
    front = D.pareto_front(list(points.values()))
    # A (30, 0.1 G) and D (33, 0.2 G) are dominated by E (28, 0.1 G); the rest trade loss for
    # MACs: C (35, 0.05 G), E, B (25, 0.25 G), F (24, 0.4 G).
    assert [p.genome for p in front] == [C, E, B, F]


def test_pareto_front_keeps_equal_points() -> None:
    p = D.CostPoint("k1", "x", 1.0, 5.0, 0.1, (0,), 0)
    q = D.CostPoint("k2", "y", 1.0, 5.0, 0.1, (1,), 0)
    r = D.CostPoint("k3", "z", 2.0, 6.0, 0.1, (2,), 0)
    assert [x.key for x in D.pareto_front([r, q, p])] == ["k1", "k2"]


def test_iso_fitness_lines(unet_study: optuna.Study) -> None:
    points = D.cost_points(unet_study)
    lines = D.iso_fitness_lines(points, GAMMA)
    # eq. 7 fitness of the points: B 1/27.5, F 1/28, E 1/29, A 1/31, D 1/35, C 1/35.5;
    # levels: the best, the median (of six: mean of 1/29 and 1/31) and the worst.
    assert [ln.fitness for ln in lines] == pytest.approx([1 / 27.5, (1 / 29 + 1 / 31) / 2,
                                                         1 / 35.5])
    best = lines[0]
    assert best.gmacs == pytest.approx((0.0, 0.44))  # 1.1 × the largest GMACs (F: 0.4)
    assert best.l_gen == pytest.approx((27.5, 27.5 - GAMMA * 0.44))
    for p in points:  # every point lies on the line of its own fitness
        c = 1 / D.point_fitness(p, GAMMA)
        assert p.l_gen == pytest.approx(c - GAMMA * p.gmacs)
    (stop,) = D.iso_fitness_lines(points, GAMMA, levels=[0.05], max_gmacs=10.0)
    assert stop.gmacs == pytest.approx((0.0, 2.0)) and stop.l_gen == pytest.approx((20.0, 0.0))
    (flat,) = D.iso_fitness_lines(points, 0.0, levels=[0.05], max_gmacs=1.0)
    assert flat.l_gen == pytest.approx((20.0, 20.0)) and flat.intercept == pytest.approx(20.0)


def test_unet_layout_of_the_reference() -> None:
    space = UNetSpace(depth=4, channels=(8, 16, 32))
    ref = space.reference_genome()
    assert ref.to_string() == "8-16-32-32|111"
    lay = D.unet_layout(ref, image_size=32)
    assert [(b.in_channels, b.out_channels, b.size) for b in lay.encoder] == [
        (3, 8, 16), (8, 16, 8), (16, 32, 4), (32, 32, 2)]
    assert [(b.in_channels, b.out_channels, b.size) for b in lay.decoder] == [
        (16, 3, 32), (32, 8, 16), (64, 16, 8), (32, 32, 4)]
    assert [(s.index, s.kept, s.channels) for s in lay.skips] == [(0, True, 8), (1, True, 16),
                                                                  (2, True, 32)]


@pytest.mark.parametrize("text", ["8-16-32-32|111", "32-8-16-8|010", "16-16-8-32|000"])
def test_unet_layout_matches_the_model(text: str) -> None:
    genome = UNetSpace(depth=4, channels=(8, 16, 32)).parse(text)
    model = UNetGenerator(genome, input_nc=3, output_nc=3)
    convs = [(m.in_channels, m.out_channels) for m in model.modules()
             if type(m) is torch.nn.Conv2d]
    deconvs = [(m.in_channels, m.out_channels) for m in model.modules()
               if type(m) is torch.nn.ConvTranspose2d][::-1]  # built innermost first
    lay = D.unet_layout(genome)
    assert [(b.in_channels, b.out_channels) for b in lay.encoder] == convs
    assert [(b.in_channels, b.out_channels) for b in lay.decoder] == deconvs
    assert [s.kept for s in lay.skips] == [bool(b) for b in genome.skips]


def test_stage_layouts() -> None:
    space = GeneticCNNSpace((4, 5, 3))
    genome = space.parse("1-00-111|0-00-000-0011|0-00")
    s1, s2, s3 = D.stage_layouts(genome)
    # Stage A: edges 1→2, 1→4, 2→4, 3→4; sources 1, 3; sink 4.
    assert s1.bits == "1-00-111" and not s1.is_empty
    assert {(n.name, n.kind, n.x) for n in s1.nodes} == {
        ("A0", "input", 0), ("A1", "ordinary", 1), ("A3", "ordinary", 1), ("A2", "ordinary", 2),
        ("A4", "ordinary", 3), ("A5", "output", 4)}
    assert {(e.source, e.target, e.kind) for e in s1.edges} == {
        ("A0", "A1", "input"), ("A0", "A3", "input"), ("A1", "A2", "encoded"),
        ("A1", "A4", "encoded"), ("A2", "A4", "encoded"), ("A3", "A4", "encoded"),
        ("A4", "A5", "output")}
    # Stage B: edges 3→5, 4→5; B1 and B2 are isolated (dropped, paper 004 §3.1.1).
    kinds = {n.name: n.kind for n in s2.nodes}
    assert kinds == {"B0": "input", "B3": "ordinary", "B4": "ordinary", "B5": "ordinary",
                     "B6": "output", "B1": "isolated", "B2": "isolated"}
    assert {(e.source, e.target, e.kind) for e in s2.edges} == {
        ("B0", "B3", "input"), ("B0", "B4", "input"), ("B3", "B5", "encoded"),
        ("B4", "B5", "encoded"), ("B5", "B6", "output")}
    assert all(n.y < 0 for n in s2.nodes if n.kind == "isolated")
    # Stage C: all zero → one convolution.
    assert s3.is_empty and s3.edges == ()
    assert [(n.name, n.kind) for n in s3.nodes] == [("C0", "single"), ("C1", "isolated"),
                                                    ("C2", "isolated"), ("C3", "isolated")]


def test_study_space_from_config() -> None:
    study = optuna.create_study(direction="maximize")
    assert D.study_space(study) is None and D.best_trial(study) is None
    study.set_user_attr(CONFIG_ATTR, {"study": {"task": "genetic-cnn"},
                                      "space": {"stages": [3, 4]}})
    assert D.study_space(study).stages == (3, 4)


def test_rung_rows_give_each_trial_the_epochs_it_trained(tmp_path) -> None:
    """A search under a pruner: a pruned trial's row is its rung, a full training the task's
    epochs, an answer from the cache 0; the report draws them (issue 27)."""
    from nasga.search.config import validate
    from nasga.search.run import open_search, optimize
    from nasga.results.report import write_report

    cfg = validate({"study": {"name": "r", "task": "genetic-cnn", "seed": 1,
                              "sampler": "aging-asha"},
                    "space": {"stages": [3, 4]},
                    "strategy": {"population": 4, "generations": 3, "max_evaluations": 3},
                    "task": {"task": "synthetic", "epochs": 4, "noise": 0.05}})
    url = f"sqlite:///{tmp_path / 'r.db'}"
    search = open_search(cfg, storage_url=url)
    optimize(search, progress=False, log=lambda s: None)
    rows = D.rung_rows(search.study, epochs=4)
    trials = search.study.get_trials(deepcopy=False)
    assert [r.trial for r in rows] == [t.number for t in trials]
    for r, t in zip(rows, trials):
        if t.state == TrialState.PRUNED:
            assert r.epochs == t.user_attrs["pruned_at_epoch"] == max(t.intermediate_values)
        elif t.user_attrs.get("trained"):
            assert r.epochs == 4 and r.value == t.intermediate_values[4]
        else:
            assert r.epochs == 0
    assert {r.state for r in rows} >= {"PRUNED", "COMPLETE"}
    text = write_report(url, "r", tmp_path / "report.html").read_text("utf-8")
    assert 'id="fig-rungs"' in text and 'id="fig-curves"' in text
    assert "epochs trained per generation: 0: " in text
    assert f"{sum(r.epochs for r in rows):,} ({sum(r.state == 'PRUNED' for r in rows)} " \
           "trainings pruned; pruner successive-halving {&#x27;reduction_factor&#x27;: 3})" in text
