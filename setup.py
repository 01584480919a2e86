"""Declare and cythonize the kernels; all metadata lives in pyproject.toml."""
import glob
import os
import platform

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

DEBUG = os.environ.get("PMCORE_DEBUG_BUILD") == "1"

X86 = platform.machine().lower() in ("x86_64", "amd64", "i386", "i686")


def cpu_flags(name: str) -> list[str]:
    """Extra instruction sets of a kernel variant; the variant is only imported at run time
    on CPUs that have them (never -march=native: wheels must run anywhere)."""
    if name.endswith("_popcnt"):
        return ["-mpopcnt"] if X86 else []
    if name.endswith("_avx2"):
        return ["-mavx2", "-mpopcnt"] if X86 else []
    if name.endswith("_avx512"):
        return ["-mavx512f", "-mavx2", "-mpopcnt"] if X86 else []
    return []


extensions = [
    Extension(
        "pmcore._kernels." + os.path.splitext(os.path.basename(path))[0],
        [path],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
        + ([("CYTHON_TRACE_NOGIL", "1")] if DEBUG else []),
        extra_compile_args=(["-O3"] if not DEBUG else ["-O0", "-g"])
        + cpu_flags(os.path.splitext(os.path.basename(path))[0]),
        depends=glob.glob("src/pmcore/_kernels/*.pxi") + glob.glob("src/pmcore/_kernels/*.pxd"),
    )
    for path in sorted(glob.glob("src/pmcore/_kernels/*.pyx"))
]

directives = {
    "language_level": 3,
    "boundscheck": DEBUG,
    "wraparound": DEBUG,
    "cdivision": True,
    "initializedcheck": DEBUG,
    "linetrace": DEBUG,
}

# The Click app lives in the top-level cli/ folder (design card) and installs as pmcore.cli.
packages = find_packages("src") + ["pmcore.cli"]

setup(
    packages=packages,
    ext_modules=cythonize(extensions, compiler_directives=directives),
)
