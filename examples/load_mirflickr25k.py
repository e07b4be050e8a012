"""Load MIRFlickr-25K from its .mat files and evaluate a hasher with the papers' protocol.

Usage::

    python examples/load_mirflickr25k.py /path/to/mirflickr25k.mat-or-folder [--image-key XAll]

Without a path the example writes a tiny synthetic file in the DCMH layout (``XAll`` image
features, ``YAll`` tag counts, ``LAll`` 24 labels, one row per item) to a temporary folder and
loads that, so it runs anywhere. The protocol is the balanced one of the hashing papers:
random queries, the rest as database, a random training subset of the database (2,000 queries
and 10,000 training items on the real collection).

``SKMETACMH_SMOKE=1`` keeps it to a few seconds.
"""

import argparse
import os
import tempfile
from pathlib import Path

import numpy as np
import scipy.io
from sklearn.preprocessing import StandardScaler

from skmetacmh import SCMHasher
from skmetacmh.datasets import (
    load_mirflickr25k,
    make_cross_modal_classification,
    split_query_database,
)
from skmetacmh.metrics import cross_modal_map

SMOKE = os.environ.get("SKMETACMH_SMOKE") == "1"


def write_fake_mirflickr(folder: Path, n_items: int) -> Path:
    """A small stand-in with the variables and shapes of DCMH's MIRFlickr-25K file."""
    X, labels = make_cross_modal_classification(
        n_samples=n_items,
        n_classes=24,
        n_image_features=64,
        n_text_features=50,
        multilabel=True,
        random_state=0,
    )
    rng = np.random.default_rng(0)
    tags = rng.poisson(np.log1p(np.exp(X[:, 64:]))).astype(np.float64)
    path = folder / "mirflickr25k.mat"
    scipy.io.savemat(
        path, {"XAll": X[:, :64].astype(np.float32), "YAll": tags, "LAll": labels.astype(np.uint8)}
    )
    return path


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", nargs="?", help="the .mat file or the folder holding it")
    parser.add_argument("--image-key", default=None, help="e.g. XAll to pick image features")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory() as tmp:
        if args.path is None:
            path, image_key = write_fake_mirflickr(Path(tmp), 600 if SMOKE else 3000), "XAll"
            n_query, n_train = (100, 300) if SMOKE else (500, 1500)
            print(f"no path given: using a synthetic file in the DCMH layout, {path.name}")
        else:
            path, image_key = args.path, args.image_key
            n_query, n_train = 2000, 10000
        data = load_mirflickr25k(path, image_key=image_key)
    print(data.DESCR)
    if data.image_is_raw:
        raise SystemExit(
            "These files hold raw images; extract features first, or pass --image-key XAll "
            "if the file also has image features."
        )

    X_text = data.text.toarray() if hasattr(data.text, "toarray") else data.text
    X = np.hstack([data.image, X_text]).astype(np.float64)
    n_image = data.image.shape[1]
    split = split_query_database(data.labels, n_query, n_train, query="random", random_state=0)
    scaler = StandardScaler().fit(X[split.train])  # fitted on training items only
    X_train, X_query, X_db = (
        scaler.transform(X[i]) for i in (split.train, split.query, split.database)
    )

    hasher = SCMHasher(n_bits=32, n_image_features=n_image)
    hasher.fit(X_train, data.labels[split.train])
    scores = cross_modal_map(
        hasher, X_query, data.labels[split.query], X_db, data.labels[split.database]
    )
    print(
        f"{len(split.query)} queries, {len(split.database)} database items, "
        f"{len(split.train)} training items"
    )
    print(
        f"SCM, 32 bits: image->text mAP {scores['image_to_text']:.3f}, "
        f"text->image mAP {scores['text_to_image']:.3f}"
    )


if __name__ == "__main__":
    main()
