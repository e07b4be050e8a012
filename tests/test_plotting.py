"""The figures of skmetacmh.plotting draw what they are given (Agg backend, no display)."""

import ast
from pathlib import Path

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

from skmetacmh import plotting  # noqa: E402
from skmetacmh.plotting import (  # noqa: E402
    plot_map_by_class_frequency,
    plot_map_vs_bits,
    plot_precision_recall,
)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_matplotlib_is_imported_inside_functions_only():
    # Module-level imports are what `import skmetacmh.plotting` would run.
    tree = ast.parse(Path(plotting.__file__).read_text(encoding="utf-8"))
    top_level = [
        alias.name if isinstance(node, ast.Import) else node.module
        for node in tree.body
        if isinstance(node, (ast.Import, ast.ImportFrom))
        for alias in node.names
    ]
    assert top_level and not any(name and name.startswith("matplotlib") for name in top_level)


def test_map_vs_bits_draws_one_line_per_method_at_its_code_lengths():
    maps = {"SCM": {16: 0.6, 32: 0.64, 64: 0.65}, "CVH": {32: 0.5, 16: 0.52}}
    ax = plot_map_vs_bits(maps, std={"SCM": {16: 0.01, 32: 0.02, 64: 0.0}}, title="t")
    assert set(ax.get_legend_handles_labels()[1]) == {"SCM", "CVH"}
    drawn = {c.get_label(): c.lines[0].get_data() for c in ax.containers}
    np.testing.assert_array_equal(drawn["SCM"][0], [16, 32, 64])
    np.testing.assert_allclose(drawn["SCM"][1], [0.6, 0.64, 0.65])
    # Code lengths are sorted even when the dict is not.
    np.testing.assert_array_equal(drawn["CVH"][0], [16, 32])
    np.testing.assert_allclose(drawn["CVH"][1], [0.52, 0.5])
    assert ax.get_title() == "t"


def test_map_vs_bits_reuses_a_given_axes():
    fig, ax = plt.subplots()
    assert plot_map_vs_bits({"A": {8: 0.3}}, ax=ax) is ax


def test_class_frequency_plot_orders_classes_head_to_tail():
    counts = [5, 50, 1, 20]
    per_class = [0.5, 0.9, np.nan, 0.7]  # the class seen once has no counted query
    ax = plot_map_by_class_frequency(counts, {"SCM": per_class})
    (line,) = ax.get_lines()
    x, y = line.get_data()
    # Ranks 1..3 are the classes with 50, 20, 5 items; the NaN class (rank 4) is left out.
    np.testing.assert_array_equal(x, [1, 2, 3])
    np.testing.assert_allclose(y, [0.9, 0.7, 0.5])
    bars = [p.get_height() for p in ax.figure.axes[1].patches]
    assert bars == [50, 20, 5, 1]


def test_class_frequency_plot_rejects_misaligned_values():
    with pytest.raises(ValueError, match="one value per class"):
        plot_map_by_class_frequency([3, 2, 1], {"SCM": [0.1, 0.2]})


def test_precision_recall_plot_draws_recall_on_x():
    ax = plot_precision_recall({"_private_name": ([1.0, 0.6, 0.2], [0.1, 0.5, 1.0])})
    (line,) = ax.get_lines()
    np.testing.assert_allclose(line.get_xdata(), [0.1, 0.5, 1.0])
    np.testing.assert_allclose(line.get_ydata(), [1.0, 0.6, 0.2])
    # A name starting with "_" still reaches the legend.
    assert ax.get_legend_handles_labels()[1] == [" _private_name"]


@pytest.mark.parametrize(
    "call",
    [
        lambda: plot_map_vs_bits({}),
        lambda: plot_precision_recall([([1.0], [1.0])]),
        lambda: plot_precision_recall({"A": ([1.0, 0.5], [1.0])}),
    ],
)
def test_bad_inputs_raise_clear_errors(call):
    with pytest.raises(ValueError):
        call()
