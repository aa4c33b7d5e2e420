"""Process-wide settings for processes the reasoner owns (the CLI, batch workers, the endpoint's workers).

Never called on import: a library must not change its host's garbage collector behind its back.
"""

from __future__ import annotations

import gc

__all__ = ["settle_heap"]

# Reasoning allocates many small short-lived objects; with the default threshold (700) the collector runs every few
# hundred allocations and its older generations re-scan the compiled guideline each time. Measured on the batch path
# (bench/run.py): about a quarter of the time went to the collector.
_THRESHOLDS = (50_000, 20, 100)


def settle_heap() -> None:
    """Call once the guideline is loaded and compiled: collect, move what is alive now (the guideline, the compiled
    tables) out of the collector's sight, and collect young objects less often. Reference cycles are still
    collected; only how often changes."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(*_THRESHOLDS)
