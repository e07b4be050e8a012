"""Tests for skmetacmh.datasets.frequency_groups (head, medium and tail classes)."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.utils._param_validation import InvalidParameterError

from skmetacmh.datasets import frequency_groups


def _reference_thirds(y):
    """Slow, obvious version: sort (count desc, class asc), cut into thirds, head bigger."""
    classes = sorted(set(y.tolist()))
    ranked = sorted(classes, key=lambda c: (-int(np.sum(y == c)), classes.index(c)))
    n = len(ranked)
    sizes = [n // 3 + (n % 3 > 0), n // 3 + (n % 3 > 1), n // 3]
    head, medium = ranked[: sizes[0]], ranked[sizes[0] : sizes[0] + sizes[1]]
    tail = ranked[sizes[0] + sizes[1] :]
    return {"head": sorted(head), "medium": sorted(medium), "tail": sorted(tail)}


@settings(max_examples=50, deadline=None)
@given(st.lists(st.integers(0, 12), min_size=1, max_size=200))
def test_thirds_match_the_reference(labels):
    y = np.asarray(labels)
    groups = frequency_groups(y)
    assert {k: v.tolist() for k, v in groups.items()} == _reference_thirds(y)


def test_thirds_partition_the_classes_and_rank_by_frequency():
    y = np.repeat([10, 20, 30, 40, 50, 60, 70], [5, 70, 3, 40, 9, 1, 20])
    groups = frequency_groups(y)
    assert {k: v.tolist() for k, v in groups.items()} == {
        "head": [20, 40, 70],
        "medium": [10, 50],
        "tail": [30, 60],
    }


def test_ties_are_broken_by_class_order():
    y = np.repeat(np.arange(6), 10)
    groups = frequency_groups(y)
    assert [groups[k].tolist() for k in ("head", "medium", "tail")] == [[0, 1], [2, 3], [4, 5]]


def test_indicator_counts_every_label_and_puts_unseen_labels_in_the_tail():
    Y = np.zeros((10, 4), dtype=np.uint8)
    Y[:, 0] = 1  # 10
    Y[:6, 1] = 1  # 6
    Y[:3, 2] = 1  # 3, label 3 never occurs
    groups = frequency_groups(Y)
    assert groups["head"].tolist() == [0, 1] and groups["tail"].tolist() == [3]


def test_string_classes():
    y = np.array(["cat"] * 5 + ["dog"] * 3 + ["eel"])
    assert frequency_groups(y)["tail"].tolist() == ["eel"]


def test_thresholds_method_uses_absolute_counts():
    y = np.repeat([0, 1, 2, 3], [150, 100, 20, 19])
    groups = frequency_groups(y, method="thresholds", thresholds=(100, 20))
    assert [groups[k].tolist() for k in ("head", "medium", "tail")] == [[0], [1, 2], [3]]


def test_bad_arguments_are_refused_clearly():
    y = np.array([0, 1, 1])
    with pytest.raises(InvalidParameterError, match="'method' parameter of frequency_groups"):
        frequency_groups(y, method="quartiles")
    with pytest.raises(ValueError, match="pair"):
        frequency_groups(y, method="thresholds", thresholds=(5,))
    with pytest.raises(ValueError, match="few <= many"):
        frequency_groups(y, method="thresholds", thresholds=(5, 10))
    with pytest.raises(ValueError, match="indicator"):
        frequency_groups(np.array([[0, 2], [1, 0]]))
    with pytest.raises(ValueError, match="1-D class labels or a 2-D"):
        frequency_groups(np.zeros((2, 2, 2)))
