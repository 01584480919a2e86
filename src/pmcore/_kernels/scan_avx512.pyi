# Same interface as the generic build.
from .scan import cpu_has_avx2 as cpu_has_avx2
from .scan import cpu_has_avx512 as cpu_has_avx512
from .scan import cpu_has_popcnt as cpu_has_popcnt
from .scan import scan_range as scan_range
from .scan import stream_pass as stream_pass
