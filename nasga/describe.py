"""Readable and JSON summaries of a genome: structure, key, parameters and MACs."""

from __future__ import annotations

from typing import Any

from nasga.spaces import GeneticCNNGenome, GeneticCNNSpace, Genome, Space, UNetGenome, UNetSpace


def build_model(space: Space, genome: Genome, *, in_channels: int = 3, n_classes: int = 10,
                out_channels: int | None = None, image_size: int = 32,
                filters: tuple[int, ...] | None = None):
    """The ``nn.Module`` of a genome (imports torch lazily)."""
    if isinstance(space, UNetSpace):
        from nasga.models import UNetGenerator

        space.check_image_size(image_size)
        return UNetGenerator(genome, input_nc=in_channels,
                             output_nc=out_channels if out_channels is not None else in_channels)
    from nasga.models import GeneticCNN
    from nasga.models.genetic_cnn import PAPER_FILTERS

    return GeneticCNN(genome, in_channels=in_channels, n_classes=n_classes,
                      filters=filters or PAPER_FILTERS, image_size=image_size)


def structure(genome: Genome) -> dict[str, Any]:
    """Per-layer channels and kept skips (U-Net) or per-stage nodes and edges (Genetic CNN)."""
    if isinstance(genome, UNetGenome):
        return {
            "encoder_channels": list(genome.channels),
            "skips_kept": [i for i, b in enumerate(genome.skips) if b],
            "skips_removed": [i for i, b in enumerate(genome.skips) if not b],
        }
    assert isinstance(genome, GeneticCNNGenome)
    return {
        "stages": [
            {
                "nodes": g.n_nodes,
                "active_nodes": list(g.active_nodes),
                "edges": sorted([list(e) for e in g.edges]),
                "sources": list(g.sources),
                "sinks": list(g.sinks),
                "convolutions": g.n_convolutions,
            }
            for g in genome.graphs
        ]
    }


def describe(space: Space, genome: Genome, *, image_size: int, in_channels: int = 3,
             n_classes: int = 10, filters: tuple[int, ...] | None = None) -> dict[str, Any]:
    """Everything ``nasga describe --json`` prints about a genome."""
    from nasga.flops import measure

    model = build_model(space, genome, in_channels=in_channels, n_classes=n_classes,
                        image_size=image_size, filters=filters)
    cost = measure(model, (in_channels, image_size, image_size))
    return {
        "space": space.name,
        "genome": genome.to_string(),
        "key": genome.key,
        "image_size": image_size,
        "in_channels": in_channels,
        "params": cost.params,
        "size_mb": round(cost.size_mb, 3),
        "macs": cost.macs,
        "conv_macs": cost.conv_macs,
        "paper_macs": cost.paper_macs,
        **structure(genome),
    }


def format_text(info: dict[str, Any]) -> str:
    """A readable multi-line summary of :func:`describe`'s dict."""
    lines = [
        f"space:      {info['space']}",
        f"genome:     {info['genome']}",
        f"key:        {info['key']}",
        f"params:     {info['params']:,} ({info['size_mb']:.1f} MB float32)",
        f"MACs:       {info['macs'] / 1e6:,.1f} M per {info['image_size']}x{info['image_size']} "
        f"image (paper-convention: {info['paper_macs'] / 1e6:,.1f} M)",
    ]
    if info["space"] == UNetSpace.name:
        ch = info["encoder_channels"]
        kept = set(info["skips_kept"])
        for i, c in enumerate(ch):
            skip = "" if i == len(ch) - 1 else ("  skip kept" if i in kept else "  skip removed")
            lines.append(f"  encoder {i}: {c:>4} ch{skip}")
    else:
        for s, st in enumerate(info["stages"], start=1):
            edges = " ".join(f"{i}->{j}" for i, j in st["edges"]) or "(none: one convolution)"
            lines.append(f"  stage {s}: {st['nodes']} nodes, active {st['active_nodes']}, "
                         f"edges {edges}, {st['convolutions']} convs")
    return "\n".join(lines)


def space_from_args(name: str, *, stages: tuple[int, ...] | None = None, depth: int | None = None,
                    channels: tuple[int, ...] | None = None) -> Space:
    """A space from command-line style arguments."""
    if name == GeneticCNNSpace.name:
        return GeneticCNNSpace(stages or (3, 4, 5))
    if name == UNetSpace.name:
        return UNetSpace(depth or 8, channels or (64, 128, 256, 512))
    from nasga.spaces import NasgaInputError

    raise NasgaInputError("space", f"must be 'unet' or 'genetic-cnn', got {name!r}")
