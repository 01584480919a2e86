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
