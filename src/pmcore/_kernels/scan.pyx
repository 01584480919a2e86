# cython: language_level=3
"""Off-target scan kernel, generic build (see scan_impl.pxi)."""
include "scan_impl.pxi"
