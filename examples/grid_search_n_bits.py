"""Choose the code length by cross-validation with the shared cross-modal scorer.

:func:`skmetacmh.metrics.make_cross_modal_scorer` makes every hasher a normal citizen of
GridSearchCV: in each fold the held-out items are the queries and the training folds are the
database, so queries and database stay disjoint. A stratified splitter keeps items of the rare
classes in every fold.

Run ``python examples/grid_search_n_bits.py``; ``SKMETACMH_SMOKE=1`` shrinks it.
"""

import os

from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split

from skmetacmh import SCMHasher
from skmetacmh.datasets import make_cross_modal_classification
from skmetacmh.metrics import cross_modal_map, make_cross_modal_scorer

SMOKE = os.environ.get("SKMETACMH_SMOKE") == "1"
N_IMAGE = 32

X, y = make_cross_modal_classification(
    n_samples=500 if SMOKE else 4000,
    n_classes=6,
    n_image_features=N_IMAGE,
    n_text_features=24,
    imbalance_factor=20,
    random_state=0,
)
X_train, X_test, y_train, y_test = train_test_split(
    X, y, test_size=0.25, stratify=y, random_state=0
)

# The generator's features are already on a unit scale, so the hasher is searched directly.
search = GridSearchCV(
    SCMHasher(n_image_features=N_IMAGE),
    {"n_bits": [8, 16, 32] if SMOKE else [8, 16, 32, 64]},
    scoring=make_cross_modal_scorer(),  # mean of image->text and text->image mAP
    cv=StratifiedKFold(3, shuffle=True, random_state=0),
)
search.fit(X_train, y_train)

for bits, mean, std in zip(
    search.cv_results_["param_n_bits"],
    search.cv_results_["mean_test_score"],
    search.cv_results_["std_test_score"],
):
    print(f"{bits:3d} bits: cross-validated mAP {mean:.3f} ± {std:.3f}")
print(f"best: {search.best_params_['n_bits']} bits")

# The best hasher, refitted on all training items, on held-out queries in both directions.
scores = cross_modal_map(search.best_estimator_, X_test, y_test)
print({direction: round(value, 3) for direction, value in scores.items()})
