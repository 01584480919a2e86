# cython: language_level=3
"""Off-target scan kernel built with AVX-512F, AVX2 and POPCNT (see scan_impl.pxi);
imported only when the CPU supports them."""
include "scan_impl.pxi"
