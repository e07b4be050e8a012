"""Figures for comparing hashers: mAP against code length, per-class mAP, precision-recall.

Every function draws on a matplotlib ``Axes`` (a new figure when ``ax`` is None) and returns
that ``Axes``, so figures compose and can be restyled or saved by the caller. matplotlib is
imported inside the functions only: ``import skmetacmh.plotting`` costs nothing and works
without matplotlib installed until a figure is actually drawn.

The inputs are plain numbers (dicts keyed by method name), as written by the benchmark
(``skmetacmh-bench``) or computed with :mod:`skmetacmh.metrics`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from ._docstring import Substitution

__all__ = [
    "plot_map_vs_bits",
    "plot_map_by_class_frequency",
    "plot_precision_recall",
]


def _axes(ax):
    """Return ``ax``, or the axes of a new figure; matplotlib is imported only here."""
    if ax is not None:
        return ax
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(
            "skmetacmh.plotting needs matplotlib; install it with `pip install matplotlib` "
            "(or the 'bench' extra: `pip install skmetacmh[bench]`)."
        ) from exc
    _, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    return ax


def _legend_label(method) -> str:
    # matplotlib hides labels that start with an underscore; keep every method in the legend.
    label = str(method)
    return " " + label if label.startswith("_") else label


def _finish(ax, xlabel: str, ylabel: str, title: str | None):
    """Label the axes, add the optional title, a light grid and the legend; return ``ax``."""
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.grid(True, alpha=0.3)
    _place_legend(ax)
    return ax


# Inside spots tried in turn, corners first: a legend there hides the least of a grid.
_LEGEND_SPOTS = (
    "upper right",
    "upper left",
    "lower left",
    "lower right",
    "center right",
    "center left",
    "lower center",
    "upper center",
)
# Times the y range is stretched to open a band above the data when no spot is free.
_HEADROOM_TRIES = 4


def _data_points(ax) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Display coordinates of what ``ax`` plots, and the marker radius (pixels) of each point.

    Returns ``(points, radii, path)``: the vertices of every line (data points, error-bar
    caps) and the ends of the error bars, and samples along every line, so that a legend
    can avoid the lines as well where it can.
    """
    points, radii, path = [np.empty((0, 2))], [np.empty(0)], [np.empty((0, 2))]
    scale = ax.figure.dpi / 72.0
    for line in ax.get_lines():
        if not line.get_visible():
            continue
        xy = np.column_stack([np.asarray(v, dtype=float) for v in line.get_data()])
        xy = xy[np.isfinite(xy).all(axis=1)]
        if xy.size == 0:
            continue
        shown = line.get_transform().transform(xy)
        marker = line.get_marker() not in (None, "None", "none", " ", "")
        radius = (line.get_markersize() * scale / 2 if marker else 0.0) + 1.0
        points.append(shown)
        radii.append(np.full(len(shown), radius))
        if line.get_linestyle() not in ("None", "none", " ", "") and len(shown) > 1:
            steps = np.linspace(0.0, 1.0, 16)[:, None, None]
            path.append((shown[:-1] + steps * (shown[1:] - shown[:-1])).reshape(-1, 2))
    for collection in ax.collections:  # error bars: LineCollections of segments
        for segment in getattr(collection, "get_segments", lambda: [])():
            if len(segment):
                shown = collection.get_transform().transform(np.asarray(segment, dtype=float))
                points.append(shown)
                radii.append(np.ones(len(shown)))
    return np.concatenate(points), np.concatenate(radii), np.concatenate(path)


# Pixels kept between the legend and a point, against small shifts of a later layout.
_LEGEND_GAP = 3.0


def _covered(box, points, radii) -> np.ndarray:
    radii = radii + _LEGEND_GAP
    return (
        (points[:, 0] + radii >= box.x0)
        & (points[:, 0] - radii <= box.x1)
        & (points[:, 1] + radii >= box.y0)
        & (points[:, 1] - radii <= box.y1)
    )


def _free_spot(ax, renderer):
    """The first inside spot where the legend covers no point (fewest line samples first)."""
    points, radii, path = _data_points(ax)
    best = None
    for spot in _LEGEND_SPOTS:
        legend = ax.legend(fontsize="small", loc=spot)
        box = legend.get_window_extent(renderer)
        if _covered(box, points, radii).any():
            continue
        crossed = int(_covered(box, path, np.zeros(len(path))).sum())
        if best is None or crossed < best[1]:
            best = (spot, crossed)
        if crossed == 0:
            break
    return None if best is None else best[0]


def _place_legend(ax):
    """Give ``ax`` a legend that covers none of its data points; return the legend.

    The legend goes to the first free spot inside the axes (corners first, fewest crossed
    lines first). When every spot covers a point, the y range is stretched upwards until a
    band above the data holds it; when even that fails (a legend taller than the axes), it
    goes outside, right of the axes. The figure is laid out (without rendering) to measure,
    so call this again after changing the figure's other axes.
    """
    figure = ax.figure
    figure.draw_without_rendering()
    renderer = figure._get_renderer()
    spot = _free_spot(ax, renderer)
    tries, original_top = 0, ax.get_ylim()[1]
    while spot is None and tries < _HEADROOM_TRIES and ax.get_yscale() == "linear":
        legend = ax.legend(fontsize="small", loc="upper right")
        height = legend.get_window_extent(renderer).height / max(ax.bbox.height, 1.0)
        if height >= 0.8:
            break
        low, high = ax.get_ylim()
        top = np.nanmax(_data_points(ax)[0][:, 1]) if len(ax.get_lines()) else ax.bbox.y1
        used = (top - ax.bbox.y0) / max(ax.bbox.height, 1.0)  # share of the axes below data top
        # Stretch so that the data end below the legend's band, with a small gap.
        limits = (low, low + (high - low) * max(used, 0.05) / max(1.0 - height - 0.06, 0.05))
        ax.set_ylim(*limits)
        # The band above the data holds the legend, not values: no ticks there.
        ax.set_yticks([t for t in ax.get_yticks() if limits[0] <= t <= original_top + 1e-9])
        ax.set_ylim(*limits)
        figure.draw_without_rendering()
        spot = _free_spot(ax, renderer)
        tries += 1
    if spot is not None:
        return ax.legend(fontsize="small", loc=spot)
    return ax.legend(fontsize="small", loc="upper left", bbox_to_anchor=(1.02, 1.0))


# Parameters and Returns every figure function shares, written once.
_DOCS = Substitution(
    ax_title="""ax : matplotlib Axes, default=None
        Where to draw; a new figure when None.
    title : str, default=None
        Axes title.""",
    returns_ax="""Returns
    -------
    ax : matplotlib Axes
        The axes drawn on; the legend names each method.""",
)


def _check_mapping(value, name: str) -> Mapping:
    if not isinstance(value, Mapping) or not value:
        raise ValueError(
            f"{name} must be a non-empty dict mapping a method name to its values; "
            f"got {type(value).__name__}."
        )
    return value


@_DOCS
def plot_map_vs_bits(
    maps: Mapping[str, Mapping[int, float]],
    *,
    std: Mapping[str, Mapping[int, float]] | None = None,
    ax=None,
    title: str | None = None,
    ylabel: str = "mAP",
):
    """Plot mAP against code length, one line per method.

    The x axis is logarithmic in base 2, with a tick at every code length that occurs, since
    code lengths are powers of two in practice. Each method's points are joined in order of
    code length, with error bars where ``std`` gives them.

    Parameters
    ----------
    maps : dict of str to dict of int to float
        ``{method: {n_bits: mAP}}``. Methods may have been run at different code lengths.
    std : dict of str to dict of int to float, default=None
        Same layout as ``maps``: drawn as error bars (for instance the standard deviation
        over seeds).
    {ax_title}
    ylabel : str, default="mAP"
        Label of the y axis.

    {returns_ax}

    See Also
    --------
    skmetacmh.metrics.mean_average_precision : The mAP of one method at one code length.
    plot_map_by_class_frequency : Per-class mAP at one code length.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skmetacmh.plotting import plot_map_vs_bits
    >>> ax = plot_map_vs_bits({"SCM": {16: 0.61, 32: 0.64}, "CVH": {16: 0.52, 32: 0.50}})
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['SCM', 'CVH']
    >>> [line.get_ydata().tolist() for line in ax.get_lines()]
    [[0.61, 0.64], [0.52, 0.5]]
    """
    maps = _check_mapping(maps, "maps")
    ax = _axes(ax)
    all_bits = set()
    for method, by_bits in maps.items():
        bits = np.array(sorted(by_bits), dtype=int)
        all_bits.update(bits.tolist())
        values = np.array([by_bits[b] for b in bits], dtype=float)
        errors = None
        if std is not None and method in std:
            errors = np.array([std[method].get(b, 0.0) for b in bits], dtype=float)
        ax.errorbar(bits, values, yerr=errors, marker="o", capsize=3, label=_legend_label(method))
    # Code lengths are powers of two in practice; a log2 axis spaces them evenly.
    ax.set_xscale("log", base=2)
    ax.set_xticks(sorted(all_bits))
    ax.set_xticklabels([str(b) for b in sorted(all_bits)])
    return _finish(ax, "code length (bits)", ylabel, title)


@_DOCS
def plot_map_by_class_frequency(
    class_counts: Sequence[float],
    class_maps: Mapping[str, Sequence[float]],
    *,
    ax=None,
    title: str | None = None,
    show_counts: bool = True,
):
    """Plot per-class mAP against training class frequency, head classes left, tail right.

    Classes are sorted by their training count, most frequent first (ties keep class order),
    so a method that neglects rare classes shows a curve falling to the right.

    Parameters
    ----------
    class_counts : array-like of shape (n_classes,)
        Training items per class (per label column for multi-label data).
    class_maps : dict of str to array-like of shape (n_classes,)
        ``{method: per-class mAP}`` aligned with ``class_counts``; NaN marks a class without
        a counted query (it is left out of that method's line).
    {ax_title}
    show_counts : bool, default=True
        Also draw the training counts as grey bars on a second (log) y axis.

    Returns
    -------
    ax : matplotlib Axes
        The axes holding the mAP lines.

    See Also
    --------
    skmetacmh.metrics.map_per_class : Computes the per-class mAP.
    plot_map_vs_bits : Overall mAP against code length.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skmetacmh.plotting import plot_map_by_class_frequency
    >>> ax = plot_map_by_class_frequency([2, 100, 10], {"SCM": [0.2, 0.8, 0.5]})
    >>> line = ax.get_lines()[0]  # classes reordered by training count: 100, 10, 2
    >>> line.get_xdata().tolist(), line.get_ydata().tolist()
    ([1, 2, 3], [0.8, 0.5, 0.2])
    """
    counts = np.asarray(class_counts, dtype=float)
    if counts.ndim != 1 or counts.size == 0:
        raise ValueError(
            f"class_counts must be a non-empty 1-D array of training counts; got shape "
            f"{counts.shape}."
        )
    class_maps = _check_mapping(class_maps, "class_maps")
    order = np.argsort(-counts, kind="stable")
    rank = np.arange(1, counts.size + 1)
    ax = _axes(ax)
    if show_counts:
        twin = ax.twinx()
        twin.bar(rank, counts[order], color="0.85", width=0.8, zorder=0)
        twin.set_yscale("log")
        twin.set_ylabel("training items per class", color="0.45")
        twin.tick_params(axis="y", colors="0.45")
        # Keep the mAP lines above the bars of the twin axes.
        ax.set_zorder(twin.get_zorder() + 1)
        ax.patch.set_visible(False)
    for method, values in class_maps.items():
        values = np.asarray(values, dtype=float)
        if values.shape != counts.shape:
            raise ValueError(
                f"class_maps[{method!r}] must have one value per class ({counts.size}); got "
                f"shape {values.shape}."
            )
        ordered = values[order]
        keep = ~np.isnan(ordered)
        ax.plot(rank[keep], ordered[keep], marker=".", label=_legend_label(method))
    ax.set_xlim(0.4, counts.size + 0.6)
    return _finish(ax, "classes, most frequent in training first", "per-class mAP", title)


@_DOCS
def plot_precision_recall(
    curves: Mapping[str, tuple[Sequence[float], Sequence[float]]],
    *,
    ax=None,
    title: str | None = None,
):
    """Plot precision-recall curves of Hamming-ball retrieval, one per method.

    Each curve has one point per Hamming radius, recall on the x axis and precision on the y
    axis, both drawn on [0, 1.02] so that curves of several figures compare directly.

    Parameters
    ----------
    curves : dict of str to (precision, recall)
        As returned (first two values) by :func:`skmetacmh.metrics.precision_recall_curve`:
        one point per Hamming radius.
    {ax_title}

    {returns_ax}

    See Also
    --------
    skmetacmh.metrics.precision_recall_curve : Computes the curve from codes and labels.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skmetacmh.plotting import plot_precision_recall
    >>> ax = plot_precision_recall({"SCM": ([1.0, 0.8, 0.5], [0.1, 0.6, 1.0])})
    >>> line = ax.get_lines()[0]
    >>> line.get_label(), line.get_xdata().tolist(), line.get_ydata().tolist()
    ('SCM', [0.1, 0.6, 1.0], [1.0, 0.8, 0.5])
    >>> ax.get_xlabel(), ax.get_ylabel()
    ('recall', 'precision')
    """
    curves = _check_mapping(curves, "curves")
    ax = _axes(ax)
    for method, curve in curves.items():
        precision, recall = (np.asarray(c, dtype=float) for c in curve)
        if precision.shape != recall.shape or precision.ndim != 1:
            raise ValueError(
                f"curves[{method!r}] must be (precision, recall), two 1-D arrays of the same "
                f"length; got shapes {precision.shape} and {recall.shape}."
            )
        ax.plot(recall, precision, marker=".", label=_legend_label(method))
    ax.set_xlim(0.0, 1.02)
    ax.set_ylim(0.0, 1.02)
    return _finish(ax, "recall", "precision", title)
