"""Readable and JSON summaries of a genome: structure, key, parameters and MACs.

What differs between spaces comes from the :class:`~nasga.spaces.Space` hooks (``build_model``,
``check_image_size``, ``structure``, ``describe_lines``); the space is found by name in
:data:`nasga.spaces.SPACES`.
"""

from __future__ import annotations

from typing import Any

from nasga.errors import is_int
from nasga.spaces import Genome, NasgaInputError, Space, space_class
from nasga.spaces.genomes import MAX_CHANNELS


def build_model(space: Space, genome: Genome, *, in_channels: int = 3, n_classes: int = 10,
                out_channels: int | None = None, image_size: int = 32,
                filters: tuple[int, ...] | None = None):
    """The ``nn.Module`` of a genome: the space's ``build_model`` hook (imports torch lazily)."""
    return space.build_model(genome, in_channels=in_channels, n_classes=n_classes,
                             out_channels=out_channels, image_size=image_size, filters=filters)


MAX_DESCRIBE_IMAGE_SIZE = 65536


def _positive(field: str, value: object, maximum: int, why: str) -> int:
    if not is_int(value) or not 1 <= value <= maximum:
        raise NasgaInputError(field, f"must be an integer in 1..{maximum} ({why}), got {value!r}")
    return value


def check_buildable(space: Space, genome: Genome, *, image_size: int, in_channels: int = 3,
                    n_classes: int = 10, filters: tuple[int, ...] | None = None) -> None:
    """Refuse, in one line, a genome that decodes but cannot be built or run: sizes out of
    range, a U-Net too deep for ``image_size``, or a network whose parameters and one image's
    activations exceed this machine's memory (estimated on PyTorch's meta device).

    Raises:
        NasgaInputError: Naming the field (``image_size``, ``in_channels``, ``classes``,
            ``genome``), the rule and the value.
    """
    _positive("image_size", image_size, MAX_DESCRIBE_IMAGE_SIZE, "the side of one input image")
    _positive("in_channels", in_channels, MAX_CHANNELS, "every convolution needs input channels")
    _positive("classes", n_classes, 10**6, "the classifier needs at least one output")
    space.to_vector(genome)  # the genome belongs to the space
    space.check_image_size(image_size)
    from nasga.models.memory import CannotRun, check_memory, estimate_memory, memory_limit

    try:
        est = estimate_memory(lambda: build_model(space, genome, in_channels=in_channels,
                                                  n_classes=n_classes, image_size=image_size,
                                                  filters=filters),
                              (in_channels, image_size, image_size))
    except CannotRun as exc:
        raise NasgaInputError("image_size", f"{genome.to_string()!r} {exc}") from None
    check_memory(est.forward_bytes(1), memory_limit("cpu"),
                 what=f"{genome.to_string()!r} at {image_size}x{image_size} "
                      f"({est.params:,} parameters, {est.activation_bytes / 1e9:,.1f} GB of "
                      "activations per image)")


def describe(space: Space, genome: Genome, *, image_size: int, in_channels: int = 3,
             n_classes: int = 10, filters: tuple[int, ...] | None = None) -> dict[str, Any]:
    """Everything ``nasga describe --json`` prints about a genome.

    The genome × space × image size is validated, and the network's memory estimated without
    allocating it, before anything is built.

    Raises:
        NasgaInputError: A bad size or channel count, or a network too large for this machine.
    """
    from nasga.evaluation.flops import measure

    check_buildable(space, genome, image_size=image_size, in_channels=in_channels,
                    n_classes=n_classes, filters=filters)
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
        **space.structure(genome),
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
    lines += space_class(info["space"]).describe_lines(info)
    return "\n".join(lines)


def space_from_args(name: str, *, genome: str | None = None, **options: Any) -> Space:
    """A space from command-line style options (``stages``, ``depth``, ``channels``; ``None`` =
    the space's default); ``genome``, the string to describe, may fill a size left unset (a
    U-Net's depth).

    Raises:
        NasgaInputError: ``space``: an unknown name; another space's option given; or a bad
            option value.
    """
    cls = space_class(name)
    for option, value in options.items():
        if value is not None and option not in cls.config_keys:
            raise NasgaInputError(option, f"is not an option of the {name} space (its options: "
                                  f"{', '.join(cls.config_keys)}), got {value!r}")
    return cls.from_options(options, genome)
