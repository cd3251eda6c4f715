"""Small real data sets shipped inside the package (no download, no scikit-learn needed).

``digits()``: the handwritten digits of scikit-learn's ``load_digits`` — 1,797 images of 8×8
pixels, each pixel a count from 0 to 16, labels 0–9.

Provenance and licence
----------------------
The images are the test part of the UCI "Optical Recognition of Handwritten Digits" data set
(optdigits; E. Alpaydin and C. Kaynak, 1998; https://doi.org/10.24432/C50P49), licensed under
Creative Commons Attribution 4.0 International (CC BY 4.0), as bundled with scikit-learn
(``sklearn/datasets/data/digits.csv.gz``).  ``optimlab/assets/digits.npz`` holds the same
numbers (checked equal when it is made) and a fixed stratified split; ``tools/make_digits.py``
regenerates it from scikit-learn, which is needed only for that.

The split: in each class, ``numpy.random.default_rng(0).permutation`` of the class's images (in
the data set's order) puts the first ``round(0.2 · n_class)`` in the test set — 359 test images,
1,438 training images.  The split is stored in the file, so it does not depend on numpy's version.
"""
from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

__all__ = ["Dataset", "digits", "DIGITS_PATH"]

#: The compressed file ``digits()`` reads.
DIGITS_PATH = Path(__file__).resolve().parent / "assets" / "digits.npz"


@dataclasses.dataclass(frozen=True, eq=False)
class Dataset:
    """A classification data set split into training and test parts.

    Attributes
    ----------
    X_train, X_test : float64 arrays, shape ``(n, features)``.
    y_train, y_test : int64 arrays, shape ``(n,)``, the class labels ``0 … classes − 1``.
    classes : the number of classes.
    """

    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    classes: int

    @property
    def features(self) -> int:
        return self.X_train.shape[1]

    def validation(self, fraction: float = 0.2, seed: int = 0) -> "Dataset":
        """The training part split again: a stratified ``fraction`` of it becomes the test part.

        For tuning: choose hyperparameters on this held-out part, report on the real test set.
        Per class, ``default_rng(seed).permutation`` of the class's training images, the first
        ``round(fraction · n_class)`` held out (the same rule as the shipped split).
        """
        if not 0 < fraction < 1:
            raise ValueError(f"fraction must be in (0, 1), got {fraction!r}")
        held = _stratified(self.y_train, fraction, seed)
        return Dataset(self.X_train[~held], self.y_train[~held], self.X_train[held],
                       self.y_train[held], self.classes)

    def scaled(self, factors) -> "Dataset":
        """The same data with feature ``j`` multiplied by ``factors[j]`` (train and test alike)."""
        factors = np.asarray(factors, dtype=float)
        if factors.shape != (self.features,) or not np.all(np.isfinite(factors)):
            raise ValueError(f"factors must be {self.features} finite numbers, got shape {factors.shape}")
        return dataclasses.replace(self, X_train=self.X_train * factors, X_test=self.X_test * factors)

    def standardized(self) -> "Dataset":
        """Features shifted and scaled by the training set's mean and standard deviation.

        A feature that is constant on the training set (a pixel that is always blank) is only
        shifted.
        """
        mean, std = self.X_train.mean(axis=0), self.X_train.std(axis=0)
        std = np.where(std > 0, std, 1.0)
        return dataclasses.replace(self, X_train=(self.X_train - mean) / std,
                                   X_test=(self.X_test - mean) / std)


def _stratified(labels: np.ndarray, fraction: float, seed: int) -> np.ndarray:
    """Boolean mask: per class, a seeded permutation of its items, the first ``round(f · n)`` chosen."""
    rng = np.random.default_rng(seed)
    chosen = np.zeros(labels.shape, dtype=bool)
    for c in np.unique(labels):
        idx = np.flatnonzero(labels == c)
        chosen[idx[rng.permutation(idx.size)[:round(fraction * idx.size)]]] = True
    return chosen


def digits() -> Dataset:
    """The 8×8 handwritten digits, pixels scaled to [0, 1] (count / 16), with the fixed split.

    ``X_train`` (1438, 64), ``y_train`` (1438,), ``X_test`` (359, 64), ``y_test`` (359,); each
    row is an image read row by row.  See the module docstring for provenance and licence.
    """
    with np.load(DIGITS_PATH) as f:
        images, labels, test = f["images"], f["labels"], f["test"]
    X = images.astype(np.float64) / 16.0
    y = labels.astype(np.int64)
    return Dataset(X[~test], y[~test], X[test], y[test], 10)
