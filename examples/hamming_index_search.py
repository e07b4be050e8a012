"""Build a HammingIndex of text codes and search it with image queries.

A fitted hasher encodes each modality on its own, so an image can search a database of texts.
:class:`skmetacmh.index.HammingIndex` stores the codes packed and answers exact top-k and
radius searches, ranked by (Hamming distance, database id): the same ranking as the metrics.

Run ``python examples/hamming_index_search.py``; ``SKMETACMH_SMOKE=1`` shrinks it.
"""

import os

import numpy as np
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from skmetacmh import SCMHasher
from skmetacmh.datasets import make_cross_modal_classification
from skmetacmh.index import HammingIndex

SMOKE = os.environ.get("SKMETACMH_SMOKE") == "1"
N_IMAGE, N_BITS, K = 32, 32, 10

X, y = make_cross_modal_classification(
    n_samples=800 if SMOKE else 20000,
    n_classes=10,
    n_image_features=N_IMAGE,
    n_text_features=24,
    random_state=0,
)
X_db, X_query, y_db, y_query = train_test_split(X, y, test_size=100, random_state=0)
scaler = StandardScaler().fit(X_db)  # fitted on the database side only
X_db, X_query = scaler.transform(X_db), scaler.transform(X_query)

hasher = SCMHasher(n_bits=N_BITS, n_image_features=N_IMAGE).fit(X_db, y_db)

# The database holds texts; the queries are images.
index = HammingIndex(N_BITS)
index.add(hasher.encode(X_db[:, N_IMAGE:], modality="text"))
query_codes = hasher.encode(X_query[:, :N_IMAGE], modality="image")
print(f"{index.ntotal} text codes indexed ({index.active_backend} backend)")

distances, ids = index.search(query_codes, K)
precision = (y_db[ids] == y_query[:, None]).mean()
print(f"precision of the top {K} texts for an image query: {precision:.3f}")
print(f"first query: ids {ids[0][:5].tolist()}, distances {distances[0][:5].tolist()}")

# Everything within Hamming radius 2 of each query (lims[i]:lims[i+1] are query i's results).
lims, radius_distances, radius_ids = index.range_search(query_codes, 2)
sizes = np.diff(lims)
print(f"radius 2: {sizes.mean():.1f} texts per query on average, {np.sum(sizes == 0)} empty")
