"""K Genetic CNN genomes as one network: the §3.1.1 decoding as 0/1 masks (issue 28).

Every genome of one space and one :class:`~nasga.models.genetic_cnn.GeneticCNNShape` is a
sub-DAG of each stage's full graph with the same convolution shapes (paper 004 §3.1), so K
members are K weight sets of one network that differ only in edge masks.

Layout: member ``k``'s activations are channels ``[k·C, (k+1)·C)`` of a ``(B, K·C, H, W)``
tensor. Each convolution is one grouped convolution (``groups=K``), each BatchNorm one
``BatchNorm2d(K·C)`` (per-channel statistics, hence per member, exactly), each linear layer one
``baddbmm`` over ``(K, out, in)`` weights (:mod:`nasga.models.fused_ops` makes both round, on
CPU, exactly as the member's own layers), and dropout draws each member's mask from that
member's own generator. Nothing mixes channels of two members, so a member whose weights turn
NaN leaves the others' values unchanged.

Decoding (paper 004 §3.1.1), per member and stage, with the unfused :class:`Stage`'s order of
summation (ascending node numbers), so a mask only ever adds exact zeros:

* node ``j`` sums the default input node's output if ``j`` is one of the member's sources, and
  node ``i``'s output for each of the member's edges ``(i, j)``;
* an isolated node has no input term and no consumer: its weights are zero and stay zero (its
  gradients are exactly zero);
* the default output node sums the member's sinks;
* an all-zero stage is one convolution: its output is the default input node's (copied).

A node that no member uses is not computed, nor the output node when every member's stage is
empty. :meth:`FusedGeneticCNN.load_member` and :meth:`FusedGeneticCNN.store_member` copy one
member's weights and BatchNorm statistics from and into its unfused :class:`GeneticCNN`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import torch
from torch import nn

from nasga.errors import NasgaInputError
from nasga.models.fused_ops import FusedConv2d, FusedLinear
from nasga.models.genetic_cnn import GeneticCNN, GeneticCNNShape, Stage
from nasga.spaces.genomes import GeneticCNNGenome, StageGraph

#: A summation term: (source node, 0 = the default input node; mask index, None = all ones).
Term = tuple[int, int | None]


def fused_conv_bn_relu(k: int, in_ch: int, out_ch: int) -> nn.Sequential:
    """K members' ``C3(P1)@out_ch → BN → ReLU`` (paper 004 §3.1) as one grouped block."""
    return nn.Sequential(FusedConv2d(k, in_ch, out_ch), nn.BatchNorm2d(k * out_ch),
                         nn.ReLU(inplace=True))


class FusedStage(nn.Module):
    """One stage of K members: the full DAG of the nodes any member uses, masked per member.

    Args:
        graphs: Each member's decoded DAG of this stage (same ``n_nodes``).
        in_ch: Channels entering the stage, per member.
        filters: Filters of every convolution in the stage, per member.
    """

    def __init__(self, graphs: Sequence[StageGraph], in_ch: int, filters: int) -> None:
        super().__init__()
        k = len(graphs)
        self.input_node = fused_conv_bn_relu(k, in_ch, filters)
        used = sorted({n for g in graphs for n in g.active_nodes})
        self.nodes = nn.ModuleDict({str(n): fused_conv_bn_relu(k, filters, filters) for n in used})
        masks: list[list[bool]] = []

        def terms(candidates: list[tuple[int, list[bool]]]) -> list[Term]:
            out: list[Term] = []
            for source, member_mask in candidates:
                if not any(member_mask):
                    continue  # no member sums this term
                if all(member_mask):
                    out.append((source, None))
                else:
                    out.append((source, len(masks)))
                    masks.append(member_mask)
            return out

        self._plan = [
            (j, terms([(0, [j in g.sources for g in graphs])]
                      + [(i, [(i, j) in g.edges for g in graphs]) for i in used if i < j]))
            for j in used
        ]
        self._sink_terms = terms([(n, [n in g.sinks for g in graphs]) for n in used])
        empty = [g.is_empty for g in graphs]
        self.output_node = None if all(empty) else fused_conv_bn_relu(k, filters, filters)
        self._runs = [(a, b, empty[a]) for a, b in _runs(empty)]
        # Per member, applied to (B, K, C·H·W) views: a long contiguous inner loop.
        self.k = k
        self.register_buffer("masks", torch.tensor(masks, dtype=torch.float32).view(-1, 1, k, 1),
                             persistent=False)
        self.register_buffer("empty", torch.tensor(empty, dtype=torch.float32).view(1, k, 1),
                             persistent=False)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.input_node(x)
        if self.output_node is None:
            return x
        shape, k = x.shape, self.k
        out = {0: x.view(shape[0], k, -1)}
        for j, terms in self._plan:  # ascending = topological (edges go low → high)
            out[j] = self.nodes[str(j)](self._sum(out, terms).view(shape)).view(shape[0], k, -1)
        y = self.output_node(self._sum(out, self._sink_terms).view(shape))
        if len(self._runs) == 1:
            return y
        picked = _Pick.apply(out[0], y.view(shape[0], k, -1), self._runs, self.empty)
        return picked.view(shape)  # all-zero members: the input node's output

    def _sum(self, out: dict[int, torch.Tensor], terms: list[Term]) -> torch.Tensor:
        """Σ mask·out[source] in ``terms``' (ascending) order; a 0 mask adds an exact zero."""
        total: torch.Tensor | None = None
        for source, m in terms:
            v = out[source]
            if total is None:
                total = v if m is None else v * self.masks[m]
            elif m is None:
                total = total + v
            else:
                total = torch.addcmul(total, v, self.masks[m])
        assert total is not None  # a used node has a term in some member
        return total


class _Pick(torch.autograd.Function):
    """Member ``k`` of ``x`` where ``empty[k]`` is 1, else of ``y`` (``(B, K, ·)`` tensors):
    copied run by run, and the gradient split by exact 0/1 products."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, y: torch.Tensor, runs: list[tuple[int, int, bool]],
                empty: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(empty)
        return torch.cat([(x if e else y)[:, a:b] for a, b, e in runs], 1)

    @staticmethod
    def backward(ctx: Any, g: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        (empty,) = ctx.saved_tensors
        return g * empty, g * (1 - empty), None, None


def _runs(flags: list[bool]) -> list[tuple[int, int]]:
    """``[start, stop)`` of each maximal run of equal ``flags``."""
    edges = [0] + [i for i in range(1, len(flags)) if flags[i] != flags[i - 1]] + [len(flags)]
    return list(zip(edges[:-1], edges[1:]))


class FusedDropout(nn.Module):
    """Dropout over ``(K, B, F)`` with member ``k``'s mask drawn from ``generators[k]``.

    On CPU each mask is the one ``nn.Dropout`` draws from a default generator in the same state
    (``bernoulli_(1 - p)``, scaled by ``1 / (1 - p)``). ``generators=None``: the global RNG.
    """

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p
        self.generators: list[torch.Generator] | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        noise = torch.empty_like(x)
        for k in range(x.shape[0]):
            gen = None if self.generators is None else self.generators[k]
            noise[k].bernoulli_(1 - self.p, generator=gen)
        return x * noise.div_(1 - self.p)


class FusedGeneticCNN(nn.Module):
    """K Genetic CNNs of one shape as one network; ``(B, K·C, H, W) → (K, B, n_classes)``.

    Weights start at zero; :meth:`from_models` loads each member's initial weights.

    Args:
        genomes: The members' genomes (same stages).
        shape: The members' common shape settings.

    Raises:
        NasgaInputError: No genome, genomes of different stages, or ``filters`` not one per stage.
    """

    def __init__(self, genomes: Sequence[GeneticCNNGenome], shape: GeneticCNNShape) -> None:
        super().__init__()
        stages = {g.stages for g in genomes}
        if len(stages) != 1:  # none, or several layouts
            raise NasgaInputError("genomes", f"fused members need one stage layout, got {stages}")
        if len(shape.filters) != len(genomes[0].stages):
            raise NasgaInputError("filters", f"need one per stage, got {shape.filters}")
        self.k, self.shape, self.stages = len(genomes), shape, genomes[0].stages
        layers: list[nn.Module] = []
        ch, size = shape.in_channels, shape.image_size
        for s, f in enumerate(shape.filters):
            layers += [FusedStage([g.graphs[s] for g in genomes], ch, f),
                       nn.MaxPool2d(kernel_size=3, stride=2, padding=1)]
            ch, size = f, (size - 1) // 2 + 1
        self.features = nn.Sequential(*layers)
        self.fc = FusedLinear(self.k, ch * size * size, shape.fc_units)
        self.dropout = FusedDropout(shape.dropout)
        self.out = FusedLinear(self.k, shape.fc_units, shape.n_classes)
        with torch.no_grad():
            for p in self.parameters():
                p.zero_()  # isolated and unused nodes stay exactly zero

    @classmethod
    def from_models(cls, models: Sequence[GeneticCNN]) -> FusedGeneticCNN:
        """The fused network of ``models`` (one shape), with their current weights.

        Raises:
            NasgaInputError: Models of different shapes or stage layouts.
        """
        shapes = {m.shape for m in models}
        if len(shapes) != 1:
            raise NasgaInputError("models", f"fused members need one shape, got {len(shapes)}")
        fused = cls([m.genome for m in models], models[0].shape)
        for k, model in enumerate(models):
            fused.load_member(k, model)
        return fused

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.features(x)
        h = h.reshape(h.shape[0], self.k, -1).transpose(0, 1)  # member k: GeneticCNN's Flatten
        return self.out(self.dropout(torch.relu(self.fc(h))))

    @torch.no_grad()
    def load_member(self, k: int, model: GeneticCNN) -> None:
        """Copy ``model``'s weights and BatchNorm statistics into member ``k``."""
        for fused, alone in self._member_tensors(k, model):
            fused.copy_(alone)

    @torch.no_grad()
    def store_member(self, k: int, model: GeneticCNN) -> None:
        """Copy member ``k``'s weights and BatchNorm statistics into ``model`` (its genome's)."""
        for fused, alone in self._member_tensors(k, model):
            alone.copy_(fused)

    def _member_tensors(self, k: int,
                        model: GeneticCNN) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """(member ``k``'s slice of a fused tensor, the unfused tensor), for every tensor."""
        if model.shape != self.shape or model.genome.stages != self.stages:
            raise NasgaInputError("model", f"needs shape {self.shape} and stages {self.stages}")
        stages = [m for m in model.features if isinstance(m, Stage)]
        fused_stages = [m for m in self.features if isinstance(m, FusedStage)]
        for fs, stage in zip(fused_stages, stages):
            yield from _block_tensors(fs.input_node, stage.input_node, k)
            for name, node in stage.nodes.items():
                yield from _block_tensors(fs.nodes[name], node, k)
            if stage.output_node is not None:
                assert fs.output_node is not None
                yield from _block_tensors(fs.output_node, stage.output_node, k)
        fc, out = model.classifier[1], model.classifier[4]
        yield from ((self.fc.weight[k], fc.weight), (self.fc.bias[k], fc.bias),
                    (self.out.weight[k], out.weight), (self.out.bias[k], out.bias))


def _block_tensors(fused: nn.Module, alone: nn.Module,
                   k: int) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Member ``k``'s slices of a fused conv → BN block and the unfused block's tensors."""
    conv, bn = alone[0], alone[1]  # type: ignore[index]
    fconv, fbn = fused[0], fused[1]  # type: ignore[index]
    rows = slice(k * conv.out_channels, (k + 1) * conv.out_channels)
    yield fconv.weight[rows], conv.weight
    for name in ("weight", "bias", "running_mean", "running_var"):
        yield getattr(fbn, name)[rows], getattr(bn, name)
    yield fbn.num_batches_tracked, bn.num_batches_tracked
