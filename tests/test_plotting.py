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


# ----------------------------------------------------------------------------- legends (#20)
def _plotted_points(ax):
    """Display coordinates and marker radii of every data point and error-bar end of ``ax``."""
    points, radii = [], []
    px_per_pt = ax.figure.dpi / 72
    for line in ax.get_lines():
        xy = np.column_stack([np.asarray(v, dtype=float) for v in line.get_data()])
        xy = xy[np.isfinite(xy).all(axis=1)]
        points.append(ax.transData.transform(xy) if len(xy) else np.empty((0, 2)))
        radii += [line.get_markersize() * px_per_pt / 2] * len(xy)
    for collection in ax.collections:
        for segment in collection.get_segments():
            points.append(ax.transData.transform(np.asarray(segment)))
            radii += [1.0] * len(segment)
    return np.concatenate(points), np.array(radii)


def assert_legend_covers_no_point(ax):
    """Render the figure as saved, then check the legend box against every plotted point."""
    import io

    fig = ax.figure
    fig.savefig(io.BytesIO(), dpi=110)
    renderer = fig._get_renderer()
    box = ax.get_legend().get_window_extent(renderer)
    points, radii = _plotted_points(ax)
    assert len(points) > 0
    inside = (
        (points[:, 0] + radii > box.x0)
        & (points[:, 0] - radii < box.x1)
        & (points[:, 1] + radii > box.y0)
        & (points[:, 1] - radii < box.y1)
    )
    assert not inside.any(), f"legend {box} covers {points[inside].round(1).tolist()}"


def test_the_legend_of_map_vs_bits_leaves_every_point_visible():
    # As in issue 20: MetaCMH far ahead at 16 bits, where "upper left" put the legend.
    maps = {
        "MetaCMH": {16: 0.93, 32: 0.95, 64: 0.96},
        "DCMH": {16: 0.91, 32: 0.94, 64: 0.95},
        "SePH": {16: 0.70, 32: 0.74, 64: 0.75},
        "SCM": {16: 0.60, 32: 0.63, 64: 0.65},
        "DLFH": {16: 0.62, 32: 0.70, 64: 0.77},
        "CMFH": {16: 0.45, 32: 0.52, 64: 0.55},
        "CVH": {16: 0.40, 32: 0.33, 64: 0.27},
        "CCA-ITQ": {16: 0.05, 32: 0.07, 64: 0.10},
    }
    std = {name: dict.fromkeys(values, 0.02) for name, values in maps.items()}
    fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    plot_map_vs_bits(maps, std=std, ax=ax)
    assert_legend_covers_no_point(ax)


def test_the_legend_of_the_class_frequency_plot_leaves_every_point_visible():
    # Eight methods over ten classes leave no corner empty (as the default benchmark's do).
    rng = np.random.default_rng(0)
    counts = np.geomspace(500, 10, 10).round()
    names = ("MetaCMH", "DCMH", "SePH", "SCM", "DLFH", "CMFH", "CVH", "CCA-ITQ")
    per_class = {name: rng.uniform(0.05, 1.0, 10) for name in names}
    per_class["MetaCMH"][-2:] = [0.97, 0.98]  # high on the rarest classes: the top right corner
    fig, ax = plt.subplots(figsize=(7.2, 4.4), layout="constrained")
    plot_map_by_class_frequency(counts, per_class, ax=ax)
    assert_legend_covers_no_point(ax)


def test_points_everywhere_open_a_band_above_the_data_for_the_legend():
    grid = np.linspace(0.0, 1.0, 9)
    curves = {f"m{i}": (np.full(9, v), grid) for i, v in enumerate(np.linspace(0.02, 1.0, 12))}
    fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    plot_precision_recall(curves, ax=ax)
    assert_legend_covers_no_point(ax)
    assert ax.get_ylim()[1] > 1.02  # the range was stretched to hold the legend


def test_the_benchmark_figures_keep_their_legends_off_the_data(tmp_path, monkeypatch):
    from skmetacmh._bench import _report

    rng = np.random.default_rng(1)
    runs = []
    for name in ("MetaCMH", "DCMH", "SePH", "SCM", "DLFH", "CMFH", "CVH", "CCA-ITQ"):
        for bits in (16, 32, 64):
            for seed in (0, 1):
                level = rng.uniform(0.1, 0.95)
                curve = {
                    "precision": np.linspace(level, 0.1, bits + 1).tolist(),
                    "recall": np.linspace(0.0, 1.0, bits + 1).tolist(),
                }
                runs.append(
                    {
                        "dataset": "d",
                        "hasher": name,
                        "params": {},
                        "bits": bits,
                        "seed": seed,
                        "mean": level,
                        "image_to_text": level,
                        "text_to_image": level,
                        "train_counts": [500, 200, 90, 40, 20, 10],
                        "per_class_map": rng.uniform(0.05, 1.0, 6).tolist(),
                        "pr": {"image_to_text": curve, "text_to_image": curve},
                    }
                )
    kept = []
    monkeypatch.setattr(_report, "_save", lambda fig, path: kept.append(fig) or path)
    _report.write_plots(runs, _report.aggregate(runs), tmp_path)
    axes = [ax for fig in kept for ax in fig.axes if ax.get_legend() is not None]
    assert len(axes) == 1 + 3 * (1 + 2)  # mAP vs bits; per bits: per class, PR x 2
    for ax in axes:
        assert_legend_covers_no_point(ax)
