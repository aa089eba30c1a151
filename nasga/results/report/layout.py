"""Architecture layouts as data: U-Net boxes (paper 000 Fig. 5), stage DAGs (paper 004 Fig. 1/5).

Pure Python, no plotting library: :mod:`nasga.results.report.drawing` turns these into drawings.
"""

from __future__ import annotations

from dataclasses import dataclass

from nasga.spaces import GeneticCNNGenome, UNetGenome

# --- paper 000 Fig. 5: U-Net layout ------------------------------------------------------------


@dataclass(frozen=True)
class LayerBox:
    """One convolution (encoder) or transposed convolution (decoder) of a U-Net.

    Attributes:
        role: ``"encoder"`` or ``"decoder"``.
        index: Layer index, 0 = outermost (the decoder layer ``i`` mirrors encoder layer ``i``).
        in_channels: Input channels (a decoder's include a kept skip's concatenation).
        out_channels: Output channels.
        size: Side of the output feature map (``None`` without an image size).
    """

    role: str
    index: int
    in_channels: int
    out_channels: int
    size: int | None


@dataclass(frozen=True)
class SkipLink:
    """Skip bit ``index``: encoder output ``index`` joins decoder layer ``index``'s input.

    Attributes:
        index: Skip bit (0 = outermost, largest feature map).
        kept: The bit is 1 (drawn solid) or 0 (removed: drawn dashed).
        channels: Channels the skip carries (encoder layer ``index``'s output).
    """

    index: int
    kept: bool
    channels: int


@dataclass(frozen=True)
class UNetLayout:
    """A U-Net generator as boxes with channel numbers (paper 000 Fig. 5)."""

    genome: str
    encoder: tuple[LayerBox, ...]
    decoder: tuple[LayerBox, ...]
    skips: tuple[SkipLink, ...]


def unet_layout(genome: UNetGenome, *, input_nc: int = 3, output_nc: int = 3,
                image_size: int | None = None) -> UNetLayout:
    """Per-layer input/output channels of :class:`~nasga.models.UNetGenerator` for ``genome``.

    Encoder layer ``i``: ``in = input_nc`` (``i = 0``) or ``c[i-1]``, ``out = c[i]``. Decoder
    layer ``i``: ``in = c[i] · (1 + skip[i])`` (the innermost: ``c[D-1]``), ``out = c[i-1]``
    (``i = 0``: ``output_nc``). The pix2pix datasets here are RGB → RGB, hence the defaults.
    """
    c, s, depth = genome.channels, genome.skips, genome.depth
    encoder, decoder = [], []
    for i in range(depth):
        size = image_size // 2 ** (i + 1) if image_size else None
        encoder.append(LayerBox("encoder", i, input_nc if i == 0 else c[i - 1], c[i], size))
        d_in = c[i] if i == depth - 1 else c[i] * (1 + s[i])
        d_size = image_size // 2 ** i if image_size else None
        decoder.append(LayerBox("decoder", i, d_in, output_nc if i == 0 else c[i - 1], d_size))
    skips = tuple(SkipLink(i, bool(b), c[i]) for i, b in enumerate(s))
    return UNetLayout(genome.to_string(), tuple(encoder), tuple(decoder), skips)


# --- paper 004 Fig. 1 / Fig. 5: stage DAGs ----------------------------------------------------


@dataclass(frozen=True)
class DagNode:
    """A node of a drawn stage.

    Attributes:
        name: The paper's label: stage letter + number, ``A0`` the default input node,
            ``A1..AK`` the ordinary nodes, ``A{K+1}`` the default output node.
        kind: ``"input"``, ``"output"``, ``"ordinary"``, ``"isolated"`` (dropped, §3.1.1) or
            ``"single"`` (an all-zero stage: one convolution, §3.1.1).
        x: Column (longest path from the default input node).
        y: Row within the column.
    """

    name: str
    kind: str
    x: float
    y: float


@dataclass(frozen=True)
class DagEdge:
    """A drawn edge: ``kind`` is ``"encoded"`` (a 1 bit), ``"input"`` or ``"output"`` (default)."""

    source: str
    target: str
    kind: str


@dataclass(frozen=True)
class StageLayout:
    """One stage of a Genetic-CNN genome as a DAG with its default nodes (paper 004 Fig. 1)."""

    stage: int
    bits: str
    n_nodes: int
    is_empty: bool
    nodes: tuple[DagNode, ...]
    edges: tuple[DagEdge, ...]


def _letter(stage: int) -> str:
    return chr(ord("A") + stage - 1) if stage <= 26 else f"S{stage}_"


def stage_layouts(genome: GeneticCNNGenome) -> list[StageLayout]:
    """Each stage's DAG with default input/output nodes and edges, laid out left to right.

    Ordinary nodes sit in the column of their longest path from the default input node; the
    default output node follows the last column; isolated nodes go on a row below (they are
    dropped, §3.1.1). An all-zero stage is one ``"single"`` convolution node.
    """
    strings = genome.to_string().split("|")
    result = []
    for s, (graph, bits) in enumerate(zip(genome.graphs, strings), start=1):
        L, k = _letter(s), graph.n_nodes
        active = set(graph.active_nodes)
        isolated = [n for n in range(1, k + 1) if n not in active]
        nodes: list[DagNode] = []
        edges: list[DagEdge] = []
        if graph.is_empty:
            nodes.append(DagNode(f"{L}0", "single", 0.0, 0.0))
            last_x = 0.0
        else:
            level: dict[int, int] = {}
            for n in graph.active_nodes:  # edges point forward: numeric order is topological
                level[n] = 1 + max((level[p] for p in graph.predecessors(n)), default=0)
            last_x = float(max(level.values()) + 1)
            nodes.append(DagNode(f"{L}0", "input", 0.0, 0.0))
            for col in sorted(set(level.values())):
                members = [n for n in graph.active_nodes if level[n] == col]
                for j, n in enumerate(members):
                    nodes.append(DagNode(f"{L}{n}", "ordinary", float(col),
                                         (len(members) - 1) / 2 - j))
            nodes.append(DagNode(f"{L}{k + 1}", "output", last_x, 0.0))
            edges += [DagEdge(f"{L}0", f"{L}{n}", "input") for n in graph.sources]
            edges += [DagEdge(f"{L}{i}", f"{L}{j}", "encoded") for i, j in sorted(graph.edges)]
            edges += [DagEdge(f"{L}{n}", f"{L}{k + 1}", "output") for n in graph.sinks]
        bottom = min(n.y for n in nodes) - 1.0
        for m, n in enumerate(isolated):
            x = last_x * (m + 1) / (len(isolated) + 1) if last_x else float(m)
            nodes.append(DagNode(f"{L}{n}", "isolated", x, bottom))
        result.append(StageLayout(s, bits, k, graph.is_empty, tuple(nodes), tuple(edges)))
    return result


__all__ = ["DagEdge", "DagNode", "LayerBox", "SkipLink", "StageLayout", "UNetLayout",
           "stage_layouts", "unet_layout"]
