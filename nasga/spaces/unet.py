"""U-Net generator search space: channel code + skip code (paper 000, §3.1–3.2).

A genome has ``depth`` channel genes (output channels of each encoder layer, each from the
choices ``S1``; the decoder mirrors them) and ``depth - 1`` skip bits (``S2``). Skip bit ``i``
concatenates encoder output ``i`` (0 = outermost, largest feature map) onto the decoder at the
same resolution. String form: ``64-128-256-512-512-512-512-512|1111111``. The genome class is in
:mod:`nasga.spaces.genomes`; :class:`UNetSpace` is the codec and the
:class:`~nasga.spaces.base.Space` hooks.

This module imports no deep-learning framework.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import optuna.distributions as od

from nasga.errors import NasgaInputError, check_int, is_int
from nasga.spaces.genomes import MAX_CHANNELS, UNetGenome


MAX_DEPTH = 16
"""Most encoder layers of a U-Net space (the image side must be divisible by ``2^depth``)."""


class UNetSpace:
    """The U-Net genome space (paper 000, eq. 5: ``S1 = {64,128,256,512}, S2 = {1,0}``).

    Args:
        depth: Encoder layers (8 for 256×256 in pix2pix's ``unet_256``).
        channels: Channel choices ``S1``.
    """

    name: ClassVar[str] = "unet"
    task_name: ClassVar[str] = "unet"  # paper 000's pix2pix translation task
    strategy_name: ClassVar[str] = "unet"  # paper 000's Algorithm 1
    config_keys: ClassVar[Mapping[str, type]] = {"depth": int, "channels": list}
    default_image_size: ClassVar[int] = 256  # pix2pix's unet_256
    percent_fitness: ClassVar[bool] = False  # fitness = 1 / (L_Gen + γ·p(q)), eq. 7

    def __init__(self, depth: int = 8, channels: Sequence[int] = (64, 128, 256, 512)) -> None:
        check_int("depth", depth, maximum=MAX_DEPTH, why="image_size is divisible by 2^depth")
        choices = tuple(channels)
        if not choices:
            raise NasgaInputError("channels", "need at least one channel choice, got none")
        for c in choices:
            if not is_int(c) or not 1 <= c <= MAX_CHANNELS:
                raise NasgaInputError("channels", f"choices must be integers in "
                                      f"1..{MAX_CHANNELS} (a bound against typos: the paper's "
                                      f"largest is 512), got {c!r}")
        if len(set(choices)) != len(choices):
            raise NasgaInputError("channels", f"choices must be distinct, got {list(choices)}")
        self.depth = depth
        self.choices: tuple[int, ...] = choices
        self._ch_names = [f"ch_{i}" for i in range(depth)]
        self._skip_names = [f"skip_{i}" for i in range(depth - 1)]

    def __repr__(self) -> str:
        return f"UNetSpace(depth={self.depth}, channels={self.choices})"

    @property
    def channels(self) -> tuple[int, ...]:
        """The channel choices ``S1`` under their config key (``[space] channels``, the
        ``channels=`` argument); the same tuple as :attr:`choices`, the operators' name."""
        return self.choices

    @property
    def param_names(self) -> list[str]:
        """``ch_0..ch_{D-1}`` (index into the choices), then ``skip_0..skip_{D-2}``."""
        return self._ch_names + self._skip_names

    @property
    def distributions(self) -> dict[str, od.BaseDistribution]:
        """``IntDistribution`` over channel-choice indices, ``IntDistribution(0, 1)`` per skip."""
        d: dict[str, od.BaseDistribution] = {
            n: od.IntDistribution(0, len(self.choices) - 1) for n in self._ch_names
        }
        d.update({n: od.IntDistribution(0, 1) for n in self._skip_names})
        return d

    @property
    def size(self) -> int:
        """``|S1|^D · 2^(D-1)``: 8,388,608 for the paper's space."""
        return len(self.choices) ** self.depth * 2 ** (self.depth - 1)

    # --- operator layout -------------------------------------------------------------------
    @property
    def channel_bounds(self) -> tuple[int, int]:
        """``(start, stop)`` of the channel code in the flat vector."""
        return (0, self.depth)

    @property
    def skip_bounds(self) -> tuple[int, int]:
        """``(start, stop)`` of the skip code in the flat vector."""
        return (self.depth, 2 * self.depth - 1)

    # --- conversions -----------------------------------------------------------------------
    def genome(self, vector: Sequence[int]) -> UNetGenome:
        """Genome from a flat gene vector (channel indices, then skip bits)."""
        vec = [int(v) for v in vector]
        if len(vec) != 2 * self.depth - 1:
            raise NasgaInputError(
                "genome", f"vector needs {2 * self.depth - 1} genes, got {len(vec)}"
            )
        for i, v in enumerate(vec[: self.depth]):
            if not 0 <= v < len(self.choices):
                raise NasgaInputError(
                    "genome", f"channel gene {i} must index 0..{len(self.choices) - 1}, got {v}"
                )
        return UNetGenome(
            tuple(self.choices[v] for v in vec[: self.depth]), tuple(vec[self.depth :])
        )

    def to_vector(self, genome: UNetGenome) -> list[int]:
        """Flat gene vector: channel choice indices, then skip bits."""
        self._check(genome)
        return [self.choices.index(c) for c in genome.channels] + list(genome.skips)

    def from_params(self, params: Mapping[str, int]) -> UNetGenome:
        """Genome from Optuna trial params."""
        missing = [n for n in self.param_names if n not in params]
        if missing:
            raise NasgaInputError("params", f"missing {missing[0]!r} ({len(missing)} missing)")
        return self.genome([params[n] for n in self.param_names])

    def to_params(self, genome: UNetGenome) -> dict[str, int]:
        """Optuna params for a genome."""
        return dict(zip(self.param_names, self.to_vector(genome)))

    def parse(self, text: str) -> UNetGenome:
        """Parse ``64-128-256-512-512-512-512-512|1111111``."""
        if not isinstance(text, str) or text.count("|") != 1:
            raise NasgaInputError(
                "genome", f"expected 'C-C-...-C|BBB' with one '|', got {text!r}"
            )
        ch_part, skip_part = text.strip().split("|")
        parts = ch_part.split("-")
        if not all(c.isascii() and c.isdigit() and c[:1] != "0" for c in parts):
            raise NasgaInputError("genome", f"channels must be integers written in digits, "
                                  f"without sign or leading zero, got {ch_part!r}")
        channels = tuple(int(c) for c in parts)
        if len(channels) != self.depth:
            raise NasgaInputError(
                "genome", f"depth {self.depth} needs {self.depth} channels, got {len(channels)} "
                f"in {ch_part!r}"
            )
        for c in channels:
            if c not in self.choices:
                raise NasgaInputError(
                    "genome", f"channel {c} not in the choices {list(self.choices)}"
                )
        for ch in skip_part:
            if ch not in "01":
                raise NasgaInputError("genome", f"bad character {ch!r} in skip code {skip_part!r}")
        if len(skip_part) != self.depth - 1:
            raise NasgaInputError(
                "genome", f"depth {self.depth} needs {self.depth - 1} skip bits, got "
                f"{len(skip_part)} in {skip_part!r}"
            )
        return UNetGenome(channels, tuple(int(ch) for ch in skip_part))

    def random_genome(self, rng: random.Random) -> UNetGenome:
        """Bootstrap sampling from ``S1`` and ``S2`` (paper 000, §3.2)."""
        return UNetGenome(
            tuple(rng.choice(self.choices) for _ in range(self.depth)),
            tuple(rng.randint(0, 1) for _ in range(self.depth - 1)),
        )

    def graded_genome(self, rng: random.Random, size: float) -> UNetGenome:
        """Each level's channels the ``Binomial(|S1| - 1, size)``-th smallest choice, each skip
        ~ Bernoulli(``size``): channels and skips, and so MACs, grow with ``size``."""
        ordered = sorted(self.choices)
        return UNetGenome(
            tuple(ordered[sum(rng.random() < size for _ in range(len(ordered) - 1))]
                  for _ in range(self.depth)),
            tuple(int(rng.random() < size) for _ in range(self.depth - 1)),
        )

    def reference_genome(self) -> UNetGenome:
        """pix2pix's layout: channels doubling from the smallest choice to the cap, all skips.

        With the paper's choices and depth 8 this is ``unet_256``:
        ``64-128-256-512-512-512-512-512|1111111``.
        """
        lo, hi = min(self.choices), max(self.choices)
        chans = []
        c = lo
        for _ in range(self.depth):
            chans.append(min(c, hi))
            c *= 2
        chans = [min((x for x in self.choices if x >= c), default=hi) for c in chans]
        return UNetGenome(tuple(chans), (1,) * (self.depth - 1))

    def check_image_size(self, image_size: int) -> None:
        """Each encoder layer halves the size: it must be divisible by ``2^depth``."""
        if not isinstance(image_size, int) or image_size < 1 or image_size % (2**self.depth):
            raise NasgaInputError(
                "image_size",
                f"must be divisible by 2^depth = {2**self.depth} (depth {self.depth}), "
                f"got {image_size!r}; set task.image_size or space.depth to match",
            )

    def _check(self, genome: UNetGenome) -> None:
        if not isinstance(genome, UNetGenome) or genome.depth != self.depth:
            raise NasgaInputError("genome", f"not a genome of {self!r}: {genome!r}")
        for c in genome.channels:
            if c not in self.choices:
                raise NasgaInputError("genome", f"channel {c} not in the choices {list(self.choices)}")

    # --- construction ------------------------------------------------------------------------
    @classmethod
    def from_config(cls, table: Mapping[str, Any]) -> UNetSpace:
        """``[space] depth``, ``channels`` (defaults: 8 and the paper's ``S1``, eq. 5)."""
        return cls(table.get("depth", 8), tuple(table.get("channels", [64, 128, 256, 512])))

    @classmethod
    def from_options(cls, options: Mapping[str, Any], genome: str | None = None) -> UNetSpace:
        """``nasga describe --depth --channels``; depth defaults to the genome's channel count
        (else 8), channels to the paper's ``S1``."""
        depth = options.get("depth")
        if depth is None and genome is not None:
            depth = genome.split("|")[0].count("-") + 1
        return cls(8 if depth is None else depth, options.get("channels") or (64, 128, 256, 512))

    # --- hooks (docs/design.md, "The two genomes") ----------------------------------------
    def build_model(self, genome: UNetGenome, *, in_channels: int = 3, n_classes: int = 10,
                    out_channels: int | None = None, image_size: int = 32,
                    filters: tuple[int, ...] | None = None) -> Any:
        """The pix2pix :class:`~nasga.models.UNetGenerator` of ``genome`` (``out_channels``
        default: ``in_channels``; ``n_classes`` and ``filters`` are unused).

        Raises:
            NasgaInputError: ``image_size`` not divisible by ``2^depth``.
        """
        from nasga.models.unet import UNetGenerator

        self.check_image_size(image_size)
        return UNetGenerator(genome, input_nc=in_channels,
                             output_nc=out_channels if out_channels is not None else in_channels)

    def structure(self, genome: UNetGenome) -> dict[str, Any]:
        """Encoder channels, kept and removed skips."""
        return {
            "encoder_channels": list(genome.channels),
            "skips_kept": [i for i, b in enumerate(genome.skips) if b],
            "skips_removed": [i for i, b in enumerate(genome.skips) if not b],
        }

    @classmethod
    def describe_lines(cls, info: Mapping[str, Any]) -> list[str]:
        """One line per encoder layer: channels and whether its skip is kept."""
        ch = info["encoder_channels"]
        kept = set(info["skips_kept"])
        lines = []
        for i, c in enumerate(ch):
            skip = "" if i == len(ch) - 1 else ("  skip kept" if i in kept else "  skip removed")
            lines.append(f"  encoder {i}: {c:>4} ch{skip}")
        return lines

    def mutate_one(self, genes: list[int], rng: random.Random) -> list[int]:
        """:func:`~nasga.samplers.ga.operators.mut_channel_set` on one uniformly drawn gene: a channel gene
        moves to another choice of ``S1``, a skip bit flips (§3.4); channel genes only with at
        least two choices."""
        from nasga.samplers.ga.operators import mut_channel_set

        c_start, c_stop = self.channel_bounds
        s_start, s_stop = self.skip_bounds
        eligible = list(range(s_start, s_stop))
        if len(self.choices) >= 2:
            eligible = list(range(c_start, c_stop)) + eligible
        if not eligible:
            return genes
        g = rng.choice(eligible)
        channel = c_start <= g < c_stop
        mut_channel_set(genes, channel_bounds=(g, g + 1) if channel else (c_start, c_start),
                        n_choices=len(self.choices),
                        skip_bounds=(s_start, s_start) if channel else (g, g + 1),
                        qm=1.0, rng=rng, at_least_one=False)
        return genes


__all__ = ["UNetGenome", "UNetSpace"]
