"""MetaCMH against DCMH and SCM on long-tailed UCI Multiple Features: head, medium, tail mAP.

The leak-free long-tail protocol in a few lines: 20 queries per digit, every other item in the
database, a training set drawn from the database with imbalance factor 50; a scaler per
modality fitted on the training set; mAP of the queries of the head, medium and tail thirds of
the classes (by training frequency), averaged over both retrieval directions.

Run ``python examples/long_tail_metacmh.py`` (about a minute on two cores);
``SKMETACMH_SMOKE=1`` trains for two epochs only, to check that it runs.
"""

import os

import numpy as np
from sklearn.compose import ColumnTransformer
from sklearn.preprocessing import StandardScaler

from skmetacmh import DCMHHasher, MetaCMHHasher, SCMHasher
from skmetacmh.datasets import load_uci_mfeat, split_query_database
from skmetacmh.metrics import map_by_frequency_group

SMOKE = os.environ.get("SKMETACMH_SMOKE") == "1"
N_BITS = 32

data = load_uci_mfeat(views=("pix", "fou"))  # pix (240) as image, fou (76) as text
X = np.hstack([data.image, data.text])
y = data.labels
n_image = data.image.shape[1]
split = split_query_database(y, 20, train_imbalance_factor=50, random_state=0)
print("training items per digit:", np.bincount(y[split.train]).tolist())

scaler = ColumnTransformer(
    [
        ("image", StandardScaler(), slice(0, n_image)),
        ("text", StandardScaler(), slice(n_image, None)),
    ]
).fit(X[split.train])
X_train, X_query, X_db = (
    scaler.transform(X[i]) for i in (split.train, split.query, split.database)
)

deep = {"max_epochs": 2} if SMOKE else {}
hashers = {
    "MetaCMH": MetaCMHHasher(N_BITS, n_image_features=n_image, random_state=0, **deep),
    "DCMH": DCMHHasher(N_BITS, n_image_features=n_image, random_state=0, **deep),
    "SCM": SCMHasher(N_BITS, n_image_features=n_image),
}
print(f"{'':8s} {'head':>6s} {'medium':>6s} {'tail':>6s}")
for name, hasher in hashers.items():
    hasher.fit(X_train, y[split.train])
    query, db = hasher.transform(X_query), hasher.transform(X_db)
    groups = [
        map_by_frequency_group(q, d, y[split.query], y[split.database], y[split.train]).map
        for q, d in (
            (query[:, :N_BITS], db[:, N_BITS:]),  # image -> text
            (query[:, N_BITS:], db[:, :N_BITS]),  # text -> image
        )
    ]
    row = [np.mean([g[part] for g in groups]) for part in ("head", "medium", "tail")]
    print(f"{name:8s} " + " ".join(f"{value:6.3f}" for value in row))
