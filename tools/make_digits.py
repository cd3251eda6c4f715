"""Regenerate ``optimlab/assets/digits.npz`` from scikit-learn's bundled ``digits`` data.

scikit-learn is needed only here, never by optimlab; run it in a throwaway environment::

    python -m venv /tmp/skl && /tmp/skl/bin/pip install scikit-learn
    /tmp/skl/bin/python tools/make_digits.py

The data are the test part of the UCI optdigits set (CC BY 4.0; see ``optimlab/datasets.py``).
The file holds ``images`` (1797, 64) uint8 pixel counts 0–16, ``labels`` (1797,) uint8 and
``test`` (1797,) bool, the fixed stratified split: per class, ``default_rng(0).permutation`` of
that class's images, the first ``round(0.2 · n_class)`` to the test set.
"""
import sys
from pathlib import Path

import numpy as np
from sklearn.datasets import load_digits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from optimlab.datasets import _stratified  # noqa: E402  (the one split rule, also used by Dataset.validation)

OUT = ROOT / "optimlab" / "assets" / "digits.npz"


def main():
    d = load_digits()
    images = d.data.astype(np.uint8)
    assert np.array_equal(images, d.data) and images.shape == (1797, 64) and images.max() == 16
    labels = d.target.astype(np.uint8)
    np.savez_compressed(OUT, images=images, labels=labels, test=_stratified(labels, 0.2, 0))
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
