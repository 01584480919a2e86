# cython: language_level=3
"""Off-target scan kernel built with POPCNT (see scan_impl.pxi); imported only when the
CPU supports it."""
include "scan_impl.pxi"
