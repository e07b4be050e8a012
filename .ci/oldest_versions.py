"""Print pip constraints pinning the oldest installable release allowed by setup.py.

For each runtime requirement named on the command line, the lowest release that satisfies
``install_requires`` in setup.py, is not yanked and has a wheel for this interpreter (found by
``pip download --only-binary=:all:``, so an old release without wheels for a new Python is
skipped). Run it with the pip of the virtual environment that will be tested; it downloads the
chosen wheels into the folder given as first argument, for ``pip install --find-links``.
"""

import ast
import subprocess
import sys
from pathlib import Path

from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]


def install_requires() -> dict:
    """``{name: Requirement}`` from the ``install_requires=[...]`` literal of setup.py."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, ast.keyword) and node.arg == "install_requires":
            requirements = [Requirement(value) for value in ast.literal_eval(node.value)]
            return {req.name.lower(): req for req in requirements}
    raise SystemExit("install_requires not found in setup.py")


def pip(*args) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--retries", "1"]
    return subprocess.run([*command, *args], capture_output=True, text=True)


def releases(name: str) -> list:
    done = pip("index", "versions", name)
    for line in done.stdout.splitlines():
        if line.startswith("Available versions:"):
            found = []
            for text in line.split(":", 1)[1].split(","):
                try:
                    found.append(Version(text.strip()))
                except InvalidVersion:  # pre-PEP 440 releases such as scikit-learn 0.7.0d
                    continue
            return sorted(v for v in found if not v.is_prerelease)
    raise SystemExit(f"pip index versions {name} failed:\n{done.stdout}{done.stderr}")


def oldest(req: Requirement, dest: str) -> Version:
    for version in releases(req.name):
        if version not in req.specifier:
            continue
        done = pip("download", "-q", "--no-deps", "--only-binary=:all:", "--dest", dest,
                   f"{req.name}=={version}")  # fmt: skip
        if done.returncode == 0 and "yanked" not in done.stderr:
            return version
    raise SystemExit(f"no installable release of {req} for Python {sys.version.split()[0]}")


def main() -> None:
    dest, names = sys.argv[1], sys.argv[2:]
    requirements = install_requires()
    for name in names:
        req = requirements[name.lower()]
        version = oldest(req, dest)
        print(f"{req.name}=={version}")
        print(f"{req} -> {version}", file=sys.stderr)


if __name__ == "__main__":
    main()
