"""Kernel selection: compiled Cython kernels or their pure-Python twins.

Chosen once at import from ``PMCORE_IMPLEMENTATION`` (``cython``, the default, or
``python``), and for the scan kernel the CPU build, capped by ``PMCORE_CPU``. ``pmcore
info`` reports which is in use. A bad value is an :class:`~pmcore.errors.InputError`
(the CLI's one-line error and exit code 2).
"""

from __future__ import annotations

import importlib
import os

from .errors import InputError

_REQUESTED = os.environ.get("PMCORE_IMPLEMENTATION", "cython").strip().lower()
if _REQUESTED not in ("cython", "python"):
    raise InputError(f"environment variable PMCORE_IMPLEMENTATION must be 'cython' or "
                     f"'python', not {_REQUESTED!r}")

IMPLEMENTATION = _REQUESTED


_BUILDS = ("generic", "popcnt", "avx2", "avx512")  # in order of preference, last best


def scan_module():
    """The scan kernel module: the best build this CPU runs (AVX-512, AVX2, POPCNT or
    generic; ``PMCORE_CPU=generic``, ``popcnt`` or ``avx2`` caps the choice), or the
    pure-Python twin."""
    if IMPLEMENTATION == "python":
        from ._kernels import scan_py

        return scan_py
    from ._kernels import scan

    cap = os.environ.get("PMCORE_CPU", "").strip().lower() or _BUILDS[-1]
    if cap not in _BUILDS:
        raise InputError(f"environment variable PMCORE_CPU must be one of "
                         f"{', '.join(_BUILDS)}, not {cap!r}")
    runs = {"generic": True, "popcnt": scan.cpu_has_popcnt(), "avx2": scan.cpu_has_avx2(),
            "avx512": scan.cpu_has_avx512()}
    for build in reversed(_BUILDS[1:_BUILDS.index(cap) + 1]):
        if runs[build]:
            try:
                return importlib.import_module(f"{__package__}._kernels.scan_{build}")
            except ImportError:  # a build without the variant (non-x86)
                continue
    return scan


def describe() -> dict:
    """Which kernels are in use (for ``pmcore info``)."""
    mod = scan_module()
    return {"implementation": IMPLEMENTATION, "scan_kernel": mod.__name__.rsplit(".", 1)[-1]}
