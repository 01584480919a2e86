"""Declare and cythonize the kernels; all metadata lives in pyproject.toml."""
import glob
import os

import numpy as np
from Cython.Build import cythonize
from setuptools import Extension, find_packages, setup

DEBUG = os.environ.get("PMCORE_DEBUG_BUILD") == "1"

extensions = [
    Extension(
        "pmcore._kernels." + os.path.splitext(os.path.basename(path))[0],
        [path],
        include_dirs=[np.get_include()],
        define_macros=[("NPY_NO_DEPRECATED_API", "NPY_1_7_API_VERSION")]
        + ([("CYTHON_TRACE_NOGIL", "1")] if DEBUG else []),
        extra_compile_args=["-O3"] if not DEBUG else ["-O0", "-g"],
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
