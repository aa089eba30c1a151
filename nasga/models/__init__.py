"""Networks built from genomes, and pix2pix's PatchGAN discriminator."""

from __future__ import annotations

from nasga.models.genetic_cnn import GeneticCNN
from nasga.models.patchgan import PatchGANDiscriminator
from nasga.models.unet import UNetGenerator

__all__ = ["GeneticCNN", "PatchGANDiscriminator", "UNetGenerator"]
