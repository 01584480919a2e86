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
    """The scan kernel module: the best build this CPU runs (AVX2, else POPCNT, else
    generic; ``PMCORE_CPU=generic`` or ``popcnt`` caps the choice), or the pure-Python
    twin."""
    if IMPLEMENTATION == "python":
        from ._kernels import scan_py

        return scan_py
    from ._kernels import scan

    cap = os.environ.get("PMCORE_CPU", "").strip().lower()
    if cap not in ("", "generic", "popcnt", "avx2"):
        raise ImportError(f"PMCORE_CPU must be 'generic', 'popcnt' or 'avx2', not {cap!r}")
    if cap in ("", "avx2") and scan.cpu_has_avx2():
        try:
            from ._kernels import scan_avx2

            return scan_avx2
        except ImportError:  # a build without the variant (non-x86)
            pass
    if cap != "generic" and scan.cpu_has_popcnt():
        from ._kernels import scan_popcnt

        return scan_popcnt
    return scan


def describe() -> dict:
    """Which kernels are in use (for ``pmcore info``)."""
    mod = scan_module()
    return {"implementation": IMPLEMENTATION, "scan_kernel": mod.__name__.rsplit(".", 1)[-1]}
