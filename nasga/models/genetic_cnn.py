"""Genetic CNN classifier built from a :class:`~nasga.spaces.GeneticCNNGenome` (paper 004).

Layout (§4.1.1, a revised LeNet): per stage a default input node ``C3(P1)@F_s``, the stage DAG
of ``C3(P1)@F_s`` nodes (each: element-wise sum of inputs → conv3×3 → BN → ReLU), a default
output node summing the sinks and convolving, then ``MP3(S2)``; after the last stage
``FC32 → ReLU → D0.5 → FC(n_classes)``. An all-zero stage is one convolution (§3.1.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch
from torch import nn

from nasga.spaces.genomes import GeneticCNNGenome, StageGraph

PAPER_FILTERS = (8, 8, 16)


@dataclass(frozen=True)
class GeneticCNNShape:
    """Everything but the genome that fixes a :class:`GeneticCNN`'s layers.

    Attributes:
        in_channels: Image channels.
        n_classes: Classifier outputs.
        filters: Filters of each stage (one entry per stage).
        image_size: Input height/width.
        fc_units: Hidden fully-connected units.
        dropout: Drop ratio before the classifier.
    """

    in_channels: int
    n_classes: int
    filters: tuple[int, ...]
    image_size: int
    fc_units: int
    dropout: float


def conv_bn_relu(in_ch: int, out_ch: int) -> nn.Sequential:
    """``C3(P1)@out_ch`` followed by BatchNorm and ReLU (paper 004 §3.1)."""
    return nn.Sequential(
        nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_ch),
        nn.ReLU(inplace=True),
    )


class Stage(nn.Module):
    """One stage: default input node, the decoded DAG, default output node (§3.1.1).

    Args:
        graph: The stage's decoded DAG.
        in_ch: Channels entering the stage.
        filters: Filters of every convolution in the stage.
    """

    def __init__(self, graph: StageGraph, in_ch: int, filters: int) -> None:
        super().__init__()
        self.graph = graph
        self.input_node = conv_bn_relu(in_ch, filters)
        self.nodes = nn.ModuleDict(
            {str(n): conv_bn_relu(filters, filters) for n in graph.active_nodes}
        )
        self.output_node = None if graph.is_empty else conv_bn_relu(filters, filters)
        self._preds = {n: graph.predecessors(n) for n in graph.active_nodes}
        self._sinks = graph.sinks

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.input_node(x)
        if self.output_node is None:
            return x
        out: dict[int, torch.Tensor] = {}
        for n in self.graph.active_nodes:  # ascending = topological (edges go low → high)
            preds = self._preds[n]
            h = x if not preds else _sum(out[p] for p in preds)
            out[n] = self.nodes[str(n)](h)
        return self.output_node(_sum(out[n] for n in self._sinks))


def _sum(tensors) -> torch.Tensor:
    it = iter(tensors)
    total = next(it)
    for t in it:
        total = total + t
    return total


class GeneticCNN(nn.Module):
    """The classification network of a genome (paper 004 §4.1.1 layout by default).

    Args:
        genome: Stage DAGs.
        in_channels: Image channels (3 for CIFAR-10, 1 for digits).
        n_classes: Classifier outputs.
        filters: Filters per stage; paper: ``(8, 8, 16)``. A shorter tuple repeats its last value.
        image_size: Input height/width, to size the first fully-connected layer.
        fc_units: Hidden fully-connected units (paper: 32).
        dropout: Drop ratio before the classifier (paper: 0.5).
    """

    def __init__(
        self,
        genome: GeneticCNNGenome,
        *,
        in_channels: int = 3,
        n_classes: int = 10,
        filters: Sequence[int] = PAPER_FILTERS,
        image_size: int = 32,
        fc_units: int = 32,
        dropout: float = 0.5,
    ) -> None:
        super().__init__()
        self.genome = genome
        n_stages = len(genome.stages)
        filt = list(filters)[:n_stages]
        filt += [filt[-1]] * (n_stages - len(filt))
        #: The shape settings, per stage for ``filters`` (read by :mod:`genetic_cnn_fused`).
        self.shape = GeneticCNNShape(in_channels, n_classes, tuple(filt), image_size, fc_units,
                                     dropout)
        layers: list[nn.Module] = []
        ch, size = in_channels, image_size
        for graph, f in zip(genome.graphs, filt):
            layers += [Stage(graph, ch, f), nn.MaxPool2d(kernel_size=3, stride=2, padding=1)]
            ch, size = f, (size - 1) // 2 + 1
        self.features = nn.Sequential(*layers)
        self.classifier = nn.Sequential(
            nn.Flatten(),
            nn.Linear(ch * size * size, fc_units),
            nn.ReLU(inplace=True),
            nn.Dropout(dropout),
            nn.Linear(fc_units, n_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classifier(self.features(x))
