"""``optimlab.datasets``: the shipped digits data and its fixed split."""
import hashlib

import numpy as np
import pytest

import optimlab as ol
from optimlab import datasets


def test_digits_has_the_documented_shapes_types_and_ranges():
    d = datasets.digits()
    assert d.X_train.shape == (1438, 64) and d.X_test.shape == (359, 64)
    assert d.y_train.shape == (1438,) and d.y_test.shape == (359,)
    assert d.X_train.dtype == np.float64 and d.y_train.dtype == np.int64
    X = np.concatenate([d.X_train, d.X_test])
    assert X.min() == 0.0 and X.max() == 1.0
    assert np.array_equal(X * 16, np.round(X * 16))  # pixel counts 0..16, scaled by 1/16
    assert d.classes == 10 and d.features == 64


def test_split_is_stratified_about_80_20():
    d = datasets.digits()
    train, test = np.bincount(d.y_train, minlength=10), np.bincount(d.y_test, minlength=10)
    assert train.sum() + test.sum() == 1797
    np.testing.assert_allclose(test / (train + test), 0.2, atol=0.01)  # every class ~20 % in test


def test_digits_are_the_uci_optdigits_test_set_as_bundled():
    """The class counts and a digest of the pixel counts pin the shipped numbers."""
    with np.load(datasets.DIGITS_PATH) as f:
        images, labels = f["images"], f["labels"]
    assert np.bincount(labels).tolist() == [178, 182, 177, 183, 181, 182, 181, 179, 174, 180]
    assert images.sum() == 561718
    assert hashlib.sha256(images.tobytes()).hexdigest()[:16] == "8f26b2bd9d135c25"


def test_split_is_the_fixed_one_regenerated_by_the_tool():
    """tools/make_digits.py's rule (per class, default_rng(0).permutation, first 20 % to test)."""
    with np.load(datasets.DIGITS_PATH) as f:
        labels, test = f["labels"], f["test"]
    rng = np.random.default_rng(0)
    expected = np.zeros(labels.shape, dtype=bool)
    for c in range(10):
        idx = np.flatnonzero(labels == c)
        expected[idx[rng.permutation(idx.size)[:round(0.2 * idx.size)]]] = True
    assert np.array_equal(test, expected)


def test_scaled_and_standardized_transform_train_and_test_alike():
    d = datasets.digits()
    f = np.linspace(0.01, 100, 64)
    s = d.scaled(f)
    np.testing.assert_array_equal(s.X_test, d.X_test * f)
    z = d.standardized()
    np.testing.assert_allclose(z.X_train.mean(axis=0), 0, atol=1e-12)
    std = z.X_train.std(axis=0)
    assert np.all((np.abs(std - 1) < 1e-12) | (std == 0))
    with pytest.raises(ValueError, match="factors must be 64 finite numbers"):
        d.scaled(np.ones(3))


def test_lazy_attribute():
    assert ol.datasets.digits().X_train.shape == (1438, 64)


def test_validation_holds_out_a_stratified_part_of_the_training_set_only():
    d = datasets.digits()
    v = d.validation()
    assert len(v.y_train) + len(v.y_test) == len(d.y_train) == 1438 and len(v.y_test) == 287
    np.testing.assert_allclose(np.bincount(v.y_test) / np.bincount(d.y_train), 0.2, atol=0.01)
    both = np.concatenate([v.X_train, v.X_test])
    assert sorted(map(bytes, both)) == sorted(map(bytes, d.X_train))  # the same images, none from test
    assert not np.array_equal(d.validation(seed=1).y_test, v.y_test)
    with pytest.raises(ValueError, match=r"fraction must be in \(0, 1\)"):
        d.validation(1.0)
