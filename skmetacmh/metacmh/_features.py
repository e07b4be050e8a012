"""Rows of one modality's feature block, dense or sparse, as the networks take them.

The trainer and the encoder only ask for a mini-batch of rows (``rows``), a subset of the
items (``subset``: the validation split) or the rows a chunk at a time (``chunks``). A dense
block is one float32 tensor on the device. A sparse (CSR) block stays a scipy matrix on the
host, and each request turns only the rows it names into a torch sparse tensor, which the
first layer multiplies sparsely (:class:`~._network.SparseInputLinear`): no dense copy of the
whole block is ever made, so a TF-IDF block of 100,000 captions over a 50,000-word
vocabulary costs its non-zeros, not ``n x d`` floats.
"""

from __future__ import annotations

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
    """A CSR block kept on the host; requested rows become a sparse COO tensor on ``device``."""

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
        # Row-major CSR without duplicates is exactly a coalesced COO.
        rows = np.repeat(np.arange(block.shape[0], dtype=np.int64), np.diff(block.indptr))
        indices = torch.from_numpy(np.vstack([rows, block.indices.astype(np.int64)]))
        values = torch.from_numpy(np.asarray(block.data, dtype=np.float32))
        tensor = torch.sparse_coo_tensor(
            indices, values, block.shape, is_coalesced=True, check_invariants=False
        )
        return tensor.to(self.device)


def feature_rows(X, device: torch.device):
    """Wrap a modality block: sparse stays sparse, anything else becomes a float32 tensor."""
    if sp.issparse(X):
        return SparseRows(X, device)
    return DenseRows(torch.as_tensor(np.asarray(X, dtype=np.float32), device=device))
