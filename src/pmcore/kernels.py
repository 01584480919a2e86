"""Kernel selection: compiled Cython kernels or their pure-Python twins.

Chosen once at import from ``PMCORE_IMPLEMENTATION`` (``cython``, the default, or
``python``). ``pmcore info`` reports which is in use.
"""

from __future__ import annotations

import os

_REQUESTED = os.environ.get("PMCORE_IMPLEMENTATION", "cython").strip().lower()
if _REQUESTED not in ("cython", "python"):
    raise ImportError(f"PMCORE_IMPLEMENTATION must be 'cython' or 'python', not {_REQUESTED!r}")

IMPLEMENTATION = _REQUESTED


def scan_module():
    """The scan kernel module: the POPCNT build where the CPU has the instruction (unless
    ``PMCORE_CPU=generic``), else the generic build, or the pure-Python twin."""
    if IMPLEMENTATION == "python":
        from ._kernels import scan_py

        return scan_py
    from ._kernels import scan

    if os.environ.get("PMCORE_CPU", "").lower() != "generic" and scan.cpu_has_popcnt():
        from ._kernels import scan_popcnt

        return scan_popcnt
    return scan


def describe() -> dict:
    """Which kernels are in use (for ``pmcore info``)."""
    mod = scan_module()
    return {"implementation": IMPLEMENTATION, "scan_kernel": mod.__name__.rsplit(".", 1)[-1]}
