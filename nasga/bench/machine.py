"""The machine a measurement ran on, named the same way in every benchmark and recording.

Every figure in docs/ names the command and the machine that produced it; this is where the
machine's name comes from (CPU model from ``/proc/cpuinfo``, the cores this process may use,
and the GPU where CUDA is already in use). Torch-free: torch is only asked if already imported.
"""

from __future__ import annotations

import os
import platform
import sys
from pathlib import Path


def cpu_model() -> str:
    """The CPU's model name where Linux says it (``/proc/cpuinfo``), else the machine type."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.machine() or "unknown CPU"


def machine() -> str:
    """``"AMD EPYC, 2 cores"``, with ``", GPU NVIDIA H100 80GB HBM3"`` where this process
    already imported torch and CUDA is available."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    text = f"{cpu_model()}, {cores} cores"
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        text += ", GPU " + ", ".join(torch.cuda.get_device_name(i)
                                      for i in range(torch.cuda.device_count()))
    return text


__all__ = ["cpu_model", "machine"]
