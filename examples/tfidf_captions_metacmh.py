"""MetaCMH on a DataFrame of image features and raw captions, with TF-IDF kept sparse.

A :class:`~sklearn.compose.ColumnTransformer` standardises the image columns and turns the
``caption`` column into TF-IDF features with a
:class:`~sklearn.feature_extraction.text.TfidfVectorizer`. Its output is a sparse matrix
(``[image block | text block]``), and :class:`~skmetacmh.MetaCMHHasher` takes it as it is:
each mini-batch of captions reaches the text network as a sparse tensor, so the vocabulary can
be large without a dense copy of the whole text block. New captions are hashed the same way.

Run ``python examples/tfidf_captions_metacmh.py``; ``SKMETACMH_SMOKE=1`` shrinks it to a few
seconds (the test suite runs it that way).
"""

import os

import numpy as np
import pandas as pd
import scipy.sparse as sp
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from skmetacmh import MetaCMHHasher
from skmetacmh.datasets import make_cross_modal_classification

SMOKE = os.environ.get("SKMETACMH_SMOKE") == "1"
N_SAMPLES = 800 if SMOKE else 6000
N_CLASSES, N_IMAGE = 8, 48

# Image features from the synthetic generator; its text block is replaced by captions.
X, y = make_cross_modal_classification(
    n_samples=N_SAMPLES,
    n_classes=N_CLASSES,
    n_image_features=N_IMAGE,
    n_text_features=8,
    imbalance_factor=10,
    random_state=0,
)
rng = np.random.default_rng(0)
class_words = [[f"topic{k}word{i}" for i in range(40)] for k in range(N_CLASSES)]
common_words = [f"common{i}" for i in range(100)]


def caption(label):
    # Mostly words of the item's class, some shared words, now and then another class's word.
    words = list(rng.choice(class_words[label], 4)) + list(rng.choice(common_words, 4))
    if rng.random() < 0.3:
        words.append(rng.choice(class_words[rng.integers(N_CLASSES)]))
    return " ".join(words)


image_cols = [f"pixel{i}" for i in range(N_IMAGE)]
frame = pd.DataFrame(X[:, :N_IMAGE], columns=image_cols)
frame["caption"] = [caption(label) for label in y]

train, query, y_train, y_query = train_test_split(
    frame, y, test_size=0.2, stratify=y, random_state=0
)

preprocess = ColumnTransformer(
    [("image", StandardScaler(), image_cols), ("text", TfidfVectorizer(), "caption")]
)
pipeline = Pipeline(
    [
        ("preprocess", preprocess),
        (
            "hasher",
            MetaCMHHasher(
                n_bits=32,
                n_image_features=len(image_cols),
                max_epochs=5 if SMOKE else 30,
                random_state=0,
            ),
        ),
    ]
)
pipeline.fit(train, y_train)

features = preprocess.transform(query)
hasher = pipeline.named_steps["hasher"]
print(f"features reaching the hasher: {type(features).__name__}, sparse={sp.issparse(features)}")
print(f"vocabulary: {hasher.n_text_features_} words")
print(f"MetaCMH on image features + TF-IDF captions: mAP {pipeline.score(query, y_query):.3f}")

# Captions alone, hashed through the fitted vectorizer (sparse all the way).
vectorizer = preprocess.named_transformers_["text"]
text_codes = hasher.encode(vectorizer.transform(query["caption"]), modality="text")
print(f"text codes of the query captions: {text_codes.shape}")
