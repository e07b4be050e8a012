"""Preprocess each modality on its own, then hash: a Pipeline with a ColumnTransformer.

``X`` holds ``[image block | text block]``. A ColumnTransformer standardises the image features
and applies TF-IDF weighting to the text's word counts, keeping the block order, so the hasher
behind it still finds the image block in the first ``n_image_features`` columns. Everything is
fitted on the training set only; ``pipeline.score`` is the cross-modal mAP of held-out queries.

Run ``python examples/pipeline_column_transformer.py``; ``SKMETACMH_SMOKE=1`` shrinks it to a
few seconds (the test suite runs it that way).
"""

import os

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skmetacmh import SCMHasher
from skmetacmh.datasets import make_cross_modal_classification

SMOKE = os.environ.get("SKMETACMH_SMOKE") == "1"
N_SAMPLES = 600 if SMOKE else 5000
N_IMAGE, N_TEXT = 48, 40

# Paired synthetic data; the text block becomes bag-of-words counts, as tags would be.
X, y = make_cross_modal_classification(
    n_samples=N_SAMPLES,
    n_classes=8,
    n_image_features=N_IMAGE,
    n_text_features=N_TEXT,
    imbalance_factor=10,
    random_state=0,
)
rng = np.random.default_rng(0)
X[:, N_IMAGE:] = rng.poisson(np.log1p(np.exp(X[:, N_IMAGE:])))

X_train, X_query, y_train, y_query = train_test_split(
    X, y, test_size=0.2, stratify=y, random_state=0
)

preprocess = ColumnTransformer(
    [
        ("image", StandardScaler(), slice(0, N_IMAGE)),
        ("text", TfidfTransformer(), slice(N_IMAGE, N_IMAGE + N_TEXT)),
    ],
    sparse_threshold=0.0,  # one dense X for the hasher
)
# Both transformers keep their block's width, so n_image_features is unchanged.
pipeline = Pipeline(
    [
        ("preprocess", preprocess),
        ("hasher", SCMHasher(n_bits=32, n_image_features=N_IMAGE)),
    ]
)
pipeline.fit(X_train, y_train)

codes = pipeline.transform(X_query)  # image bits then text bits, uint8
print(f"codes of the queries: {codes.shape}, dtype {codes.dtype}")
print(f"cross-modal mAP of held-out queries: {pipeline.score(X_query, y_query):.3f}")

hasher = pipeline.named_steps["hasher"]
image_codes = hasher.encode(preprocess.transform(X_query)[:, :N_IMAGE], modality="image")
print(f"image codes alone: {image_codes.shape}")
