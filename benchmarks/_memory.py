"""Peak-memory helpers shared by the benchmark scripts (Linux /proc, else getrusage)."""

from __future__ import annotations

import resource


def peak_rss_mb() -> float:
    """Peak resident set size since the last :func:`reset_peak` (Linux), else lifetime."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def reset_peak() -> None:
    """Start a new peak-RSS measurement (Linux: writing 5 to clear_refs resets VmHWM)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        pass
