"""Write tests/data/deep_reference_d7da4cb.npz: codes and loss histories of the deep hashers.

Run once on commit d7da4cb (before the parameter refactor) with
``PYTHONPATH=. python tests/data/make_deep_reference.py``; tests/test_metacmh.py checks that
today's code reproduces every array bit for bit.
"""

import numpy as np
import scipy.sparse as sp

from skmetacmh import DCMHHasher, MetaCMHHasher

CASES = {
    "metacmh": (MetaCMHHasher, {}),
    "metacmh_sampled": (MetaCMHHasher, {"n_sampled_columns": 64}),
    "metacmh_nomemory": (MetaCMHHasher, {"memory": False}),
    "dcmh": (DCMHHasher, {}),
    "dcmh_sampled_scaled": (DCMHHasher, {"n_sampled_columns": 64, "similarity_scale": 8.0}),
    "metacmh_sparse": (MetaCMHHasher, {"sparse": True}),
}
PARTS = ("loss", "likelihood", "quantization", "balance", "classification", "recall")


def data():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(6), [80, 40, 20, 10, 5, 3])
    centres = rng.standard_normal((6, 20))
    X = np.hstack([centres[y, :12], centres[y, 12:]]) + 0.8 * rng.standard_normal((len(y), 20))
    return X, y


def fit_case(name):
    cls, params = CASES[name]
    params = dict(params)
    X, y = data()
    if params.pop("sparse", False):
        X = sp.hstack([sp.csr_matrix(X[:, :12]), sp.csr_matrix(np.maximum(X[:, 12:], 0))])
        X = X.tocsr()
    h = cls(n_bits=16, n_image_features=12, max_epochs=4, random_state=3, **params).fit(X, y)
    image = h.encode(X[:, :12], modality="image")
    text = h.encode(X[:, 12:], modality="text")
    history = np.array([[r.get(p, np.nan) for p in PARTS] for r in h.history_])
    return {"image": image, "text": text, "history": history}


if __name__ == "__main__":
    out = {}
    for name in CASES:
        for key, value in fit_case(name).items():
            out[f"{name}/{key}"] = value
    np.savez_compressed("tests/data/deep_reference_d7da4cb.npz", **out)
    print(sorted(out))
