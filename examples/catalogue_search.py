"""From a fitted hasher to answers: a 200,000-item catalogue, saved, reloaded, searched by caption.

A shop's catalogue is a table: image features (from any CNN) and a caption per item. Only a
tenth of it is labelled. This example

1. builds such a pandas DataFrame (200,000 items, 64 image columns and a caption; 20,000
   labelled, 40 long-tailed classes);
2. fits a Pipeline (a ColumnTransformer: StandardScaler on the image columns, TfidfVectorizer
   on the captions; then MetaCMH) on the labelled part only;
3. encodes the whole catalogue once into a :class:`~skmetacmh.catalogue.Catalogue` (one Hamming
   index per modality, with the catalogue's own item ids) and saves it to a folder;
4. reloads it, memory-mapped, in a new Python process and retrieves the top-10 images for a
   raw caption string through the same pipeline, with the time per query.

Run ``python examples/catalogue_search.py`` (about 2 minutes on an idle 2-core machine, most
of it the fit: 1 min 52 s measured; the run is on the docs' "From a fitted hasher to answers"
page). ``SKMETACMH_SMOKE=1`` shrinks it to a few seconds (the test suite runs it that way).
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

SMOKE = os.environ.get("SKMETACMH_SMOKE") == "1"
N_ITEMS = 5_000 if SMOKE else 200_000
N_LABELLED = 1_000 if SMOKE else 20_000
N_CLASSES, N_IMAGE, N_COMMON_WORDS = 40, 64, 3_000
IMAGE_COLUMNS = [f"img{i}" for i in range(N_IMAGE)]


def make_catalogue(seed: int = 0):
    """A long-tailed catalogue: class sizes fall 50-fold; captions mix topic and common words."""
    rng = np.random.default_rng(seed)
    weights = 50.0 ** (-np.arange(N_CLASSES) / (N_CLASSES - 1))
    y = rng.choice(N_CLASSES, size=N_ITEMS, p=weights / weights.sum())
    centres = rng.standard_normal((N_CLASSES, N_IMAGE))
    image = centres[y] + 1.5 * rng.standard_normal((N_ITEMS, N_IMAGE))
    topic = np.array([[f"t{c}x{j}" for j in range(8)] for c in range(N_CLASSES)])
    common = np.array([f"w{j}" for j in range(N_COMMON_WORDS)])
    topic_words = topic[y[:, None], rng.integers(0, 8, (N_ITEMS, 3))]
    common_words = common[rng.zipf(1.3, (N_ITEMS, 5)) % N_COMMON_WORDS]
    captions = [" ".join(words) for words in np.hstack([topic_words, common_words])]
    frame = pd.DataFrame(image.astype(np.float32), columns=IMAGE_COLUMNS)
    frame["caption"] = captions
    frame.insert(0, "item_id", [f"SKU-{i:07d}" for i in range(N_ITEMS)])
    labelled = rng.choice(N_ITEMS, size=N_LABELLED, replace=False)
    return frame, y, np.sort(labelled)


def build(folder: Path) -> None:
    from sklearn.compose import ColumnTransformer
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from skmetacmh import MetaCMHHasher
    from skmetacmh.catalogue import Catalogue

    start = time.perf_counter()
    frame, y, labelled = make_catalogue()
    columns = ColumnTransformer(
        [
            ("image", StandardScaler(), IMAGE_COLUMNS),  # first: the image block
            ("text", TfidfVectorizer(min_df=2), "caption"),
        ]
    )
    hasher = MetaCMHHasher(
        n_bits=64,
        n_image_features=N_IMAGE,
        max_epochs=3 if SMOKE else "auto",
        random_state=0,
    )
    pipeline = Pipeline([("columns", columns), ("hasher", hasher)])
    pipeline.fit(frame.iloc[labelled], y[labelled])
    fitted = time.perf_counter()
    print(f"fitted on {len(labelled):,} labelled items in {fitted - start:.0f} s")

    catalogue = Catalogue(pipeline).add(frame, ids=frame["item_id"])
    catalogue.save(folder)
    print(
        f"encoded and indexed {catalogue.ntotal:,} catalogue items in "
        f"{time.perf_counter() - fitted:.0f} s; saved to {folder}"
    )


def query(folder: Path) -> None:
    from skmetacmh.catalogue import Catalogue

    start = time.perf_counter()
    catalogue = Catalogue.load(folder, mmap_mode="r")
    print(f"reloaded {catalogue.ntotal:,} items in {time.perf_counter() - start:.2f} s")
    # A caption the shop never saw, of a rare class (class 35 holds about 0.6% of the items).
    caption = "t35x1 t35x4 w3 w17 t35x6"
    _, ids = catalogue.kneighbors(caption, modality="text", n_neighbors=10)
    print(f"top-10 images for {caption!r}:", ", ".join(ids[0]))
    frame, y, _ = make_catalogue()  # only to check the answer: ids -> classes
    classes = y[frame.index[frame["item_id"].isin(ids[0])]]
    print(f"of the class the caption describes: {np.mean(classes == 35):.0%}")
    rng = np.random.default_rng(1)
    queries = list(frame["caption"].iloc[rng.choice(len(frame), 200, replace=False)])
    start = time.perf_counter()
    for text in queries:
        catalogue.kneighbors(text, modality="text", n_neighbors=10)
    per_query = (time.perf_counter() - start) / len(queries)
    print(
        f"time per query (one caption at a time, top-10 of {catalogue.ntotal:,}): "
        f"{1000 * per_query:.2f} ms"
    )


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--query":
        query(Path(sys.argv[2]))
    else:
        with tempfile.TemporaryDirectory() as tmp:
            folder = Path(tmp) / "catalogue"
            build(folder)
            # A new process: nothing of the fit is left in memory but what the folder holds.
            result = subprocess.run(
                [sys.executable, os.path.abspath(__file__), "--query", str(folder)],
                capture_output=True,
                text=True,
                check=False,
            )
            print(result.stdout, end="")
            if result.returncode:
                raise SystemExit(result.stderr)
