"""Kill points for fault tests: the process SIGKILLs itself at a named moment.

``NASGA_KILL_AT=<moment>`` (or ``<moment>:<n>``, the ``n``-th time) makes a worker die the way
``kill -9`` kills it, at exactly that moment, so a test of "a worker killed at any moment"
covers every moment without depending on timing (issue 26). Unset, :func:`kill_point` is one
dictionary lookup.

Moments (where :func:`kill_point` is called):

* ``sampling`` — inside a nasga sampler, its child claimed and before it proposes;
* ``claim-wait`` — a GA ticket waiting for its work item (the generation barrier);
* ``training`` — in the objective, just before the task trains the genome;
* ``writing`` — in the objective, halfway through writing a training's measurements.
"""

from __future__ import annotations

import os
import signal

KILL_ENV = "NASGA_KILL_AT"
MOMENTS = ("sampling", "claim-wait", "training", "writing")
_arrivals: dict[str, int] = {}


def kill_point(moment: str) -> None:
    """SIGKILL this process if ``$NASGA_KILL_AT`` names ``moment`` (and this is its n-th arrival)."""
    wanted = os.environ.get(KILL_ENV)
    if not wanted or not wanted.startswith(moment):
        return
    name, _, nth = wanted.partition(":")
    if name != moment:
        return
    _arrivals[moment] = _arrivals.get(moment, 0) + 1
    if _arrivals[moment] >= int(nth or 1):
        os.kill(os.getpid(), signal.SIGKILL)
