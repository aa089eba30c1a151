"""Memory estimates on the meta device: exact parameters, activations, nothing allocated."""

from __future__ import annotations

import time

import pytest

from nasga.models import GeneticCNN, UNetGenerator
from nasga.models.memory import check_memory, estimate_memory
from nasga.spaces import GeneticCNNSpace, NasgaInputError, UNetSpace


def test_parameters_match_the_real_network() -> None:
    genome = UNetSpace().reference_genome()
    est = estimate_memory(lambda: UNetGenerator(genome), (3, 256, 256))
    assert est.params == 54_414_531 and est.param_bytes == 4 * 54_414_531
    assert 0 < est.activation_bytes < 2e9
    g = GeneticCNNSpace().parse("1-01|0-01-111|0-11-010-0111")
    real = GeneticCNN(g)
    est = estimate_memory(lambda: GeneticCNN(g), (3, 32, 32))
    assert est.params == sum(p.numel() for p in real.parameters())


def test_activations_grow_with_the_image_area() -> None:
    genome = UNetSpace(depth=4, channels=(8, 16)).reference_genome()
    small = estimate_memory(lambda: UNetGenerator(genome), (3, 32, 32)).activation_bytes
    large = estimate_memory(lambda: UNetGenerator(genome), (3, 64, 64)).activation_bytes
    assert large == 4 * small


def test_a_terabyte_network_is_estimated_in_a_moment_and_refused() -> None:
    genome = UNetSpace().reference_genome()
    start = time.perf_counter()
    est = estimate_memory(lambda: UNetGenerator(genome), (3, 65536, 65536))
    assert time.perf_counter() - start < 10
    assert est.forward_bytes() > 1e12
    with pytest.raises(NasgaInputError, match=r"^genome: big needs about [\d,.]+ GB, over the 1.0 GB"):
        check_memory(est.forward_bytes(), 10**9, what="big")
    assert est.training_bytes(4) > est.forward_bytes(4)
