"""Paper 000's losses, measurements and fitness of a pix2pix generator: eq. 6–8, PSNR/SSIM, eq. 7.

Training (pix2pix's ``optimize_parameters``): D minimises the vanilla GAN loss on real and fake
pairs, halved (:func:`discriminator_loss`); G minimises its GAN loss plus ``λ·L1``, λ = 100
(:func:`generator_loss`, eq. 3).

Measured on the mini validation subset, with both networks in eval mode
(:func:`validation_sums` per batch, :func:`validation_losses` over the subset):

* ``l_gan`` — eq. 6, the generator's adversarial loss against the trained discriminator, in the
  form pix2pix's generator minimises: ``E[BCEWithLogits(D(x, G(x)), real)] = E[−log D(x, G(x))]``
  (mean over images and patches). Eq. 6's literal ``E[log(1 − D(G(x)))]`` is ≤ 0 and would let
  ``L_Gen`` approach 0 or go negative; it is kept as ``l_gan_eq6`` for reference only.
* ``l1`` — eq. 2, mean ``|y − G(x)|`` on [-1, 1] images (pix2pix's ``L1Loss``).
* ``l_gen = l_gan + λ·l1`` — eq. 8.
* ``psnr`` (dB) and ``ssim`` — scikit-image metrics on images mapped to [0, 1]
  (:func:`image_quality`).

Fitness (eq. 7, :func:`fitness`): ``f(q) = 1 / (l_gen + γ·p(q))`` with ``p(q) = macs / 1e9``,
the generator's true MACs per image, **in GMACs** — the one definition, used by
:class:`~nasga.tasks.translation.TranslationTask` and the report's loss–MACs figure.

Relation to the paper's γ: its ``γ ∈ {0.1, 0.01, 0.001}`` multiplies Table 1's "FLOPs" in G,
which are MACs in the old thop 0.1.1 convention (``paper_macs``: transposed convolutions
counted 4× too high; pix2pix's unet_256 = 18.15 G vs 6.05 G true MACs at 256×256, so
``paper_macs ≈ 3 × macs`` for U-Nets). Paper γ therefore corresponds to ``≈ 3·γ`` on our
GMACs, at 256×256 — 16× the pixels of a 64×64 image, whose MACs are 16× smaller again.

Default γ = 40 (:data:`nasga.tasks.translation.DEFAULT_GAMMA`) for the default CPU study
(built-in photos grey2colour at 64×64, ``UNetSpace(depth=6, channels=(16, 32, 64, 128))``, 5
mini-epochs of 64 training crops, 32 validation crops, ndf 32). Measured on 10 random genomes
(``random.Random(0)``), 2 seeds each:

* L_Gen 18.7–36.7 (mean 28.2, s.d. across genomes 5.6; λ·L1 ≈ 18–34 dominates, l_gan ≈ 1–2.7);
  seed-to-seed noise: mean |ΔL_Gen| 2.1 between two seeds of one genome;
* generator cost 0.012–0.229 GMACs per image (mean 0.063; the space spans 0.004 for all-16
  without skips to 0.288 for all-128 with every skip).

γ = 40 makes ``γ·p(q)`` 0.5–9.2 (mean 2.5): ≈ 9 % of the mean L_Gen for a genome of mean
cost, up to ≈ 50 % for the costliest sampled genome. Cost thus breaks near-ties and charges
40 L_Gen per GMAC (0.1 GMACs must buy ≈ 0.04 of L1), while the best-quality sampled genome
(L_Gen 18.7 at 0.23 GMACs) still outranks the cheapest ones (L_Gen ≈ 26–33 at 0.013). With
γ = 20 the ranking hardly moved from γ = 0; at γ = 75 cost dominated it. For comparison, the
paper's γ = 0.1 adds 0.1 × 18.15 ≈ 1.8 to pix2pix's unet_256 on cityscapes. γ = 0 searches on
quality alone.

The functions taking tensors import torch (and scikit-image) themselves, so the fitness can be
read without importing a deep-learning framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:  # pragma: no cover
    import torch
    from torch import nn

GIGA = 1e9  # p(q) is in GMACs


def cost_penalty(macs: float, gamma: float) -> float:
    """``γ·p(q)``: γ times the generator's GMACs per image (eq. 7)."""
    return gamma * float(macs) / GIGA


def fitness(l_gen: float, macs: float, gamma: float) -> float:
    """Eq. 7: ``1 / (l_gen + γ·macs/1e9)``."""
    return 1.0 / (float(l_gen) + cost_penalty(macs, gamma))


def discriminator_loss(p_fake: torch.Tensor, p_real: torch.Tensor) -> torch.Tensor:
    """pix2pix ``backward_D``: real pairs → 1, fake pairs → 0, the sum halved."""
    import torch
    from torch.nn import functional as F

    return 0.5 * (F.binary_cross_entropy_with_logits(p_fake, torch.zeros_like(p_fake))
                  + F.binary_cross_entropy_with_logits(p_real, torch.ones_like(p_real)))


def generator_loss(p_fake: torch.Tensor, fake: torch.Tensor, y: torch.Tensor,
                   lam: float) -> torch.Tensor:
    """pix2pix ``backward_G``: fool D, plus ``λ·L1`` (eq. 3)."""
    import torch
    from torch.nn import functional as F

    return (F.binary_cross_entropy_with_logits(p_fake, torch.ones_like(p_fake))
            + lam * F.l1_loss(fake, y))


def validation_sums(logits: torch.Tensor, fake: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """One batch's sums over images of ``−log D``, ``log(1 − D)`` (each a mean over patches)
    and the mean ``|y − G(x)|``, as one tensor on the device (float32 inputs)."""
    import torch
    from torch.nn import functional as F

    per_image = logits.flatten(1)
    return torch.stack([
        F.softplus(-per_image).mean(1).sum(),  # −log D
        (-F.softplus(per_image)).mean(1).sum(),  # log(1 − D)
        (fake - y).abs().flatten(1).mean(1).sum(),
    ])


def validation_losses(rows: list[list[float]], n: int) -> tuple[float, float, float]:
    """Eq. 6's ``l_gan``, ``l_gan_eq6`` and eq. 2's ``l1`` over ``n`` images from the per-batch
    :func:`validation_sums` ``rows``, summed as Python floats in batch order."""
    gan, gan_eq6, l1 = (sum(r[k] for r in rows) for k in range(3))
    return gan / n, gan_eq6 / n, l1 / n


def l_gen(l_gan: float, l1: float, lam: float) -> float:
    """Eq. 8: ``L_Gen = l_gan + λ·l1``."""
    return l_gan + lam * l1


def image_quality(fake: torch.Tensor, real: torch.Tensor) -> tuple[float, float]:
    """Mean PSNR (dB) and SSIM over a batch of [-1, 1] images, measured on [0, 1].

    SSIM uses scikit-image's 7×7 window (smaller, odd, for images under 7 pixels).
    """
    import numpy as np
    from skimage.metrics import peak_signal_noise_ratio, structural_similarity

    x = ((fake.detach().float().cpu().clamp(-1, 1) + 1) / 2).numpy().astype(np.float64)
    y = ((real.detach().float().cpu().clamp(-1, 1) + 1) / 2).numpy().astype(np.float64)
    side = min(x.shape[-2:])
    win = min(7, side if side % 2 else side - 1)
    psnr, ssim = [], []
    for p, t in zip(x, y):
        mse = float(np.mean((p - t) ** 2))
        psnr.append(100.0 if mse == 0 else peak_signal_noise_ratio(t, p, data_range=1.0))
        ssim.append(structural_similarity(t, p, data_range=1.0, channel_axis=0, win_size=win))
    return float(np.mean(psnr)), float(np.mean(ssim))


def validate(g_net: nn.Module, d_net: nn.Module, a: torch.Tensor, b: torch.Tensor, *,
             device: torch.device, batch_size: int, lam: float
             ) -> tuple[dict[str, float], torch.Tensor]:
    """Eq. 6–8 losses, PSNR and SSIM on the mini validation subset, both networks in eval mode.

    Returns the measurements (``l_gen``, ``l_gan``, ``l1``, ``l_gan_eq6``, ``psnr``, ``ssim``)
    and the generator's outputs, in the order of ``a``.
    """
    import torch

    import nasga.tasks._torch as T

    g_net.eval()
    d_net.eval()
    dtype = T.amp_dtype(device)
    fakes, sums = [], []  # per batch, on the device: one host synchronisation at the end
    with torch.no_grad():
        for i in range(0, len(a), batch_size):
            x, y = a[i : i + batch_size], b[i : i + batch_size]
            with T.autocast(device, dtype):
                fake = g_net(x)
                logits = d_net(torch.cat([x, fake], 1))
            fake, logits = fake.float(), logits.float()
            sums.append(validation_sums(logits, fake, y))
            fakes.append(fake)
        # summed as Python floats in batch order, exactly as per-batch float() accumulation
        gan, gan_eq6, l1 = validation_losses(torch.stack(sums).tolist(), len(a))
        fake = torch.cat(fakes)
        l_gan = T.check_finite(gan, "validation adversarial loss")
        l_1 = T.check_finite(l1, "validation L1 loss")
        psnr, ssim = image_quality(fake, b)
    return {
        "l_gen": l_gen(l_gan, l_1, lam),
        "l_gan": l_gan,
        "l1": l_1,
        "l_gan_eq6": gan_eq6,
        "psnr": psnr,
        "ssim": ssim,
    }, fake
