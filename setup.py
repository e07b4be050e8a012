"""Packaging for skmetacmh: cross-modal hashing on long-tailed data, sklearn style."""

import platform
import sys
from pathlib import Path

from setuptools import Extension, find_packages, setup

HERE = Path(__file__).parent

EXTRAS = {
    "test": [
        "pytest>=7",
        "pytest-xdist>=3",
        "hypothesis>=6",
        "pandas>=1.5",
        "h5py>=3",
        "matplotlib>=3.6",
        "tqdm>=4.60",
        "dask[array,distributed]>=2023.1",
        "dask-ml>=2024.4",
        "ruff>=0.4",
    ],
    "docs": [
        "sphinx>=7",
        "numpydoc>=1.6",
        "pydata-sphinx-theme>=0.15",
        "matplotlib>=3.6",
    ],
    "faiss": ["faiss-cpu>=1.7.4"],
    "bench": ["matplotlib>=3.6", "tqdm>=4.60", "pandas>=1.5"],
    "hdf5": ["h5py>=3"],
    "dask": ["dask[array,distributed]>=2023.1"],
}


def _compile_args() -> list:
    if sys.platform == "win32":
        return ["/O2"]
    args = ["-O3"]
    if platform.machine().lower() in ("x86_64", "amd64"):
        args.append("-mpopcnt")  # hardware popcount: every x86-64 CPU of the last 15 years
    return args


# The compiled search engine is optional: when a compiler is missing the build goes on and the
# pure-numpy engine (same results, slower) is used; skmetacmh.show_versions() says which.
EXT_MODULES = [
    Extension(
        "skmetacmh._search._kernels",
        # _kernels.c: the Python entry points; _scan.c and _mih.c: the loops they call.
        [f"skmetacmh/_search/{name}.c" for name in ("_kernels", "_scan", "_mih")],
        depends=["skmetacmh/_search/_kernels.h", "skmetacmh/_search/_popcount.h"],
        extra_compile_args=_compile_args(),
        optional=True,
    ),
]

setup(
    name="skmetacmh",
    version="0.1.0.dev0",
    description="Scikit-learn compatible cross-modal hashing on long-tailed data",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    python_requires=">=3.9",
    packages=find_packages(include=["skmetacmh", "skmetacmh.*"]),
    package_data={
        "skmetacmh._bench": ["configs/*.json"],
        "skmetacmh.datasets": ["data/*.csv.gz", "data/*.rst"],
    },
    # Floors are tested: .ci/oldest installs the oldest of numpy, scipy, scikit-learn and joblib
    # allowed here and runs the suite. scipy 1.11 gives L-BFGS callbacks the OptimizeResult
    # (SePH); joblib 1.4 has Parallel(return_as="generator_unordered") (the benchmark);
    # scikit-learn 1.6 has validate_data. numpy 1.x works through skmetacmh._search._popcount.
    install_requires=[
        "numpy>=1.23",
        "scipy>=1.11",
        "scikit-learn>=1.6",
        "joblib>=1.4",
        "torch>=2.1",
    ],
    extras_require=EXTRAS,
    ext_modules=EXT_MODULES,
    entry_points={"console_scripts": ["skmetacmh-bench=skmetacmh._bench.cli:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Intended Audience :: Science/Research",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
