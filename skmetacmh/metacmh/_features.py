"""Rows of one modality's feature block, dense or sparse, as the networks take them.

The trainer and the encoder only ask for a mini-batch of rows (``rows``), a subset of the
items (``subset``: the validation split) or the rows a chunk at a time (``chunks``). A dense
block is one float32 tensor on the device. A sparse (CSR) block stays a scipy matrix on the
host, and each request turns only the rows it names into a torch sparse CSR tensor, which the
first layer multiplies sparsely (:class:`~._network.RowSparseLinear` for a net trained on
sparse input, :class:`~._network.SparseInputLinear` otherwise): no dense copy of the
whole block is ever made, so a TF-IDF block of 100,000 captions over a 50,000-word
vocabulary costs its non-zeros, not ``n x d`` floats.
"""

from __future__ import annotations

import warnings

import numpy as np
import scipy.sparse as sp
import torch

__all__ = ["DenseRows", "SparseRows", "feature_rows"]

#: Rows a forward pass without gradient (encoding, buffer refresh) takes at once.
CHUNK_ROWS = 8192


class DenseRows:
    """A dense block: one float32 tensor on the device."""

    def __init__(self, values: torch.Tensor):
        self.values = values

    def __len__(self) -> int:
        return self.values.shape[0]

    def rows(self, index: torch.Tensor) -> torch.Tensor:
        return self.values[index]

    def subset(self, index: torch.Tensor) -> DenseRows:
        return DenseRows(self.values[index])

    def chunks(self, size: int = CHUNK_ROWS):
        for start in range(0, len(self), size):
            yield self.values[start : start + size]


class SparseRows:
    """A CSR block kept on the host; requested rows become a torch sparse CSR on ``device``."""

    def __init__(self, matrix, device: torch.device):
        matrix = sp.csr_matrix(matrix)
        if not matrix.has_canonical_format:
            matrix = matrix.copy()
            matrix.sum_duplicates()
        self.matrix = matrix
        self.device = device

    def __len__(self) -> int:
        return self.matrix.shape[0]

    def rows(self, index: torch.Tensor) -> torch.Tensor:
        return self._to_torch(self.matrix[index.cpu().numpy()])

    def subset(self, index: torch.Tensor) -> SparseRows:
        return SparseRows(self.matrix[index.cpu().numpy()], self.device)

    def chunks(self, size: int = CHUNK_ROWS):
        for start in range(0, len(self), size):
            yield self._to_torch(self.matrix[start : start + size])

    def _to_torch(self, block) -> torch.Tensor:
        # scipy's canonical CSR is torch's CSR as is: no sorting or coalescing to do.
        with warnings.catch_warnings():
            # torch flags its whole sparse CSR layout as "beta"; the operations used here
            # (construction, sparse @ dense) are covered by the tests.
            warnings.filterwarnings("ignore", "Sparse CSR tensor support is in beta")
            tensor = torch.sparse_csr_tensor(
                torch.from_numpy(block.indptr.astype(np.int64)),
                torch.from_numpy(block.indices.astype(np.int64)),
                torch.from_numpy(np.asarray(block.data, dtype=np.float32)),
                block.shape,
                check_invariants=False,
            )
        return tensor.to(self.device)


def feature_rows(X, device: torch.device):
    """Wrap a modality block: sparse stays sparse, anything else becomes a float32 tensor."""
    if sp.issparse(X):
        return SparseRows(X, device)
    return DenseRows(torch.as_tensor(np.asarray(X, dtype=np.float32), device=device))
