"""Regenerate ``optimlab/assets/digits.npz`` from scikit-learn's bundled ``digits`` data.

scikit-learn is needed only here, never by optimlab; run it in a throwaway environment::

    python -m venv /tmp/skl && /tmp/skl/bin/pip install scikit-learn
    /tmp/skl/bin/python tools/make_digits.py

The data are the test part of the UCI optdigits set (CC BY 4.0; see ``optimlab/datasets.py``).
The file holds ``images`` (1797, 64) uint8 pixel counts 0–16, ``labels`` (1797,) uint8 and
``test`` (1797,) bool, the fixed stratified split: per class, ``default_rng(0).permutation`` of
that class's images, the first ``round(0.2 · n_class)`` to the test set.
"""
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

OUT = Path(__file__).resolve().parents[1] / "optimlab" / "assets" / "digits.npz"


def split(labels: np.ndarray, test_fraction: float = 0.2, seed: int = 0) -> np.ndarray:
    """The boolean test mask: per class, a seeded permutation, the first ``round(f · n)`` to test."""
    rng = np.random.default_rng(seed)
    test = np.zeros(labels.shape, dtype=bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        test[idx[rng.permutation(idx.size)[:round(test_fraction * idx.size)]]] = True
    return test


def main():
    d = load_digits()
    images = d.data.astype(np.uint8)
    assert np.array_equal(images, d.data) and images.shape == (1797, 64) and images.max() == 16
    labels = d.target.astype(np.uint8)
    np.savez_compressed(OUT, images=images, labels=labels, test=split(labels))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
