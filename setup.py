"""Packaging for skmetacmh: cross-modal hashing on long-tailed data, sklearn style."""

from pathlib import Path

from setuptools import find_packages, setup

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

setup(
    name="skmetacmh",
    version="0.1.0.dev0",
    description="Scikit-learn compatible cross-modal hashing on long-tailed data",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    license="BSD-3-Clause",
    python_requires=">=3.9",
    packages=find_packages(include=["skmetacmh", "skmetacmh.*", "benchmarks", "benchmarks.*"]),
    package_data={"benchmarks": ["configs/*.json"]},
    install_requires=[
        "numpy>=1.23",
        "scipy>=1.9",
        "scikit-learn>=1.6",
        "joblib>=1.2",
        "torch>=2.1",
    ],
    extras_require=EXTRAS,
    entry_points={"console_scripts": ["skmetacmh-bench=benchmarks.run:main"]},
    classifiers=[
        "Programming Language :: Python :: 3",
        "Intended Audience :: Science/Research",
        "Topic :: Scientific/Engineering :: Artificial Intelligence",
    ],
)
