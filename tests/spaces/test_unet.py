from __future__ import annotations

import random

import pytest
from optuna.distributions import IntDistribution

from nasga.spaces import NasgaInputError, UNetGenome, UNetSpace

PIX2PIX = "64-128-256-512-512-512-512-512|1111111"


def test_reference_round_trip() -> None:
    space = UNetSpace()
    g = space.parse(PIX2PIX)
    assert g == space.reference_genome()
    assert g.to_string() == PIX2PIX
    assert space.to_vector(g) == [0, 1, 2, 3, 3, 3, 3, 3] + [1] * 7
    assert space.from_params(space.to_params(g)) == g
    assert space.size == 4**8 * 2**7 == 8_388_608  # paper 000 §3.1


def test_distributions_and_names() -> None:
    space = UNetSpace(depth=4, channels=(8, 16, 32))
    assert space.param_names == ["ch_0", "ch_1", "ch_2", "ch_3", "skip_0", "skip_1", "skip_2"]
    d = space.distributions
    assert d["ch_0"] == IntDistribution(0, 2) and d["skip_2"] == IntDistribution(0, 1)


def test_random_genomes_are_valid_and_seeded() -> None:
    space = UNetSpace(depth=6, channels=(16, 32, 64))
    rng = random.Random(1)
    gs = [space.random_genome(rng) for _ in range(50)]
    assert all(space.parse(g.to_string()) == g for g in gs)
    assert len({g.key for g in gs}) > 40
    assert space.random_genome(random.Random(7)) == space.random_genome(random.Random(7))


@pytest.mark.parametrize(
    "text,fragment",
    [
        ("64-128-256-512-512-512-512|1111111", "needs 8 channels, got 7"),
        ("64-128-256-512-512-512-512-512|111111", "needs 7 skip bits, got 6"),
        ("64-128-256-512-512-512-512-100|1111111", "channel 100 not in the choices"),
        ("64-128-256-512-512-512-512-512|11a1111", "bad character 'a'"),
        ("64-128-256-512-512-512-512-512", "one '|'"),
        ("64-x-256-512-512-512-512-512|1111111", "channels must be integers"),
        ("+64-128-256-512-512-512-512-512|1111111", "without sign or leading zero"),
        ("064-128-256-512-512-512-512-512|1111111", "without sign or leading zero"),
        ("6_4-128-256-512-512-512-512-512|1111111", "channels must be integers written in digits"),
    ],
)
def test_bad_strings(text: str, fragment: str) -> None:
    with pytest.raises(NasgaInputError, match="genome") as info:
        UNetSpace().parse(text)
    assert fragment in str(info.value)


def test_bad_space_and_image_size() -> None:
    with pytest.raises(NasgaInputError, match="channels: need at least one"):
        UNetSpace(channels=())
    with pytest.raises(NasgaInputError, match="depth: must be an integer >= 1 and <= 16 .*, got 0"):
        UNetSpace(depth=0)
    with pytest.raises(NasgaInputError, match=r"image_size: must be divisible by 2\^depth = 256"):
        UNetSpace().check_image_size(200)
    UNetSpace().check_image_size(512)
    with pytest.raises(NasgaInputError, match="need 2 skip bits, got 1"):
        UNetGenome((8, 8, 8), (1,))
    with pytest.raises(NasgaInputError, match="channel gene 0 must index 0..3, got 4"):
        UNetSpace().genome([4] * 8 + [0] * 7)


def test_reference_genome_small_choices() -> None:
    assert UNetSpace(depth=5, channels=(16, 32, 64)).reference_genome().to_string() == (
        "16-32-64-64-64|1111"
    )


def test_channels_is_the_config_key_name_of_the_choices() -> None:
    space = UNetSpace(depth=3, channels=(8, 16))
    assert space.channels == space.choices == (8, 16)


def test_graded_genomes_grow_from_the_smallest_network_to_the_largest() -> None:
    space = UNetSpace(depth=5, channels=(32, 8, 16))  # choices need not be sorted
    rng = random.Random(0)
    assert space.graded_genome(rng, 0.0) == UNetGenome((8,) * 5, (0,) * 4)
    assert space.graded_genome(rng, 1.0) == UNetGenome((32,) * 5, (1,) * 4)
    middle = [space.graded_genome(rng, 0.5) for _ in range(300)]
    assert all(space.parse(g.to_string()) == g for g in middle)
    share = [sum(c == v for g in middle for c in g.channels) / 1500 for v in (8, 16, 32)]
    assert share == pytest.approx([0.25, 0.5, 0.25], abs=0.04)  # Binomial(2, 0.5) of the order
    assert sum(sum(g.skips) for g in middle) / 1200 == pytest.approx(0.5, abs=0.04)
