"""Toy data sets, train/validation split and mini-batch iteration."""

from __future__ import annotations

import numpy as np
import pytest

from nnscratch.data import (
    iterate_minibatches,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    train_val_split,
)

MAKERS = {
    "xor": (make_xor, 2),
    "moons": (make_moons, 2),
    "circles": (make_circles, 2),
    "spirals": (make_spirals, 3),
    "blobs": (make_blobs, 3),
}


@pytest.mark.parametrize("name", MAKERS)
@pytest.mark.parametrize("n", [7, 101])
def test_shapes_dtypes_and_balance(name, n):
    make, classes = MAKERS[name]
    X, y = make(n=n, rng=0)
    assert X.shape == (n, 2) and X.dtype == np.float64
    assert y.shape == (n,) and y.dtype == np.int64
    counts = np.bincount(y, minlength=classes)
    assert len(counts) == classes
    assert counts.max() - counts.min() <= 1  # as balanced as n allows
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("name", MAKERS)
def test_deterministic_for_a_seed_and_generator(name):
    make, _ = MAKERS[name]
    X1, y1 = make(rng=3)
    X2, y2 = make(rng=3)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    X3, _ = make(rng=4)
    assert not np.allclose(X1, X3)
    X4, y4 = make(rng=np.random.default_rng(3))
    np.testing.assert_array_equal(X1, X4)
    np.testing.assert_array_equal(y1, y4)


@pytest.mark.parametrize("name", MAKERS)
def test_no_global_random_state(name):
    make, _ = MAKERS[name]
    # the legacy global generator is what students' own np.random calls use
    np.random.seed(123)  # noqa: NPY002
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    make(rng=0)
    make(rng=None)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002


def test_samples_are_shuffled():
    _, y = make_moons(n=200, rng=0)
    assert 0 < y[:100].mean() < 1  # the first half is not all one class


def test_xor_geometry():
    X, y = make_xor(n=400, noise=0.0, rng=0)
    corners = X.round().astype(int)
    np.testing.assert_array_equal(X, corners)  # no noise: exactly on the corners
    np.testing.assert_array_equal(y, corners[:, 0] ^ corners[:, 1])


def test_noise_controls_spread():
    X0, y0 = make_circles(n=200, noise=0.0, factor=0.3, rng=0)
    radius = np.linalg.norm(X0, axis=1)
    np.testing.assert_allclose(radius[y0 == 0], 1.0)
    np.testing.assert_allclose(radius[y0 == 1], 0.3)
    X1, y1 = make_circles(n=200, noise=0.2, factor=0.3, rng=0)
    assert np.linalg.norm(X1, axis=1)[y1 == 0].std() > 0.05

    Xm0, ym0 = make_moons(n=100, noise=0.0, rng=1)
    upper = Xm0[ym0 == 0]
    np.testing.assert_allclose(np.linalg.norm(upper, axis=1), 1.0)
    Xm1, _ = make_moons(n=100, noise=0.3, rng=1)
    assert np.abs(Xm1 - Xm0).mean() > 0.1


def test_spirals_radius_and_classes():
    X, y = make_spirals(n=500, classes=5, noise=0.0, rng=0)
    assert set(np.unique(y)) == set(range(5))
    assert np.linalg.norm(X, axis=1).max() <= 1.0 + 1e-12


def test_blobs_centers():
    centers = np.array([[-10.0, 0.0], [10.0, 0.0]])
    X, y = make_blobs(n=400, centers=centers, std=0.5, rng=0)
    for k in range(2):
        np.testing.assert_allclose(X[y == k].mean(axis=0), centers[k], atol=0.15)
        assert np.all((0.4 < X[y == k].std(axis=0)) & (X[y == k].std(axis=0) < 0.6))


@pytest.mark.parametrize(
    "call, error",
    [
        (lambda: make_moons(n=1), ValueError),
        (lambda: make_moons(n=10.5), TypeError),
        (lambda: make_moons(noise=-0.1), ValueError),
        (lambda: make_moons(noise="0.1"), TypeError),
        (lambda: make_circles(factor=1.5), ValueError),
        (lambda: make_spirals(classes=1), ValueError),
        (lambda: make_spirals(n=2, classes=3), ValueError),
        (lambda: make_blobs(centers=np.zeros((3, 3))), ValueError),
        (lambda: make_xor(rng=1.5), TypeError),
        (lambda: make_xor(rng="seed"), TypeError),
    ],
)
def test_bad_arguments(call, error):
    with pytest.raises(error):
        call()


# --------------------------------------------------------------------------- train_val_split


def test_split_sizes_and_partition():
    X = np.arange(50, dtype=float).reshape(25, 2)
    y = np.arange(25)
    X_tr, X_va, y_tr, y_va = train_val_split(X, y, val_fraction=0.2, rng=0)
    assert len(X_va) == len(y_va) == 5 and len(X_tr) == len(y_tr) == 20
    assert sorted(np.concatenate([y_tr, y_va]).tolist()) == list(range(25))
    np.testing.assert_array_equal(X_tr[:, 0], 2 * y_tr)  # rows stay paired with labels
    np.testing.assert_array_equal(X_va[:, 0], 2 * y_va)
    again = train_val_split(X, y, val_fraction=0.2, rng=0)
    np.testing.assert_array_equal(again[3], y_va)


def test_split_stratified_keeps_balance():
    y = np.repeat([0, 1, 2], [50, 30, 20])
    X = np.zeros((100, 3))
    _, _, y_tr, y_va = train_val_split(X, y, val_fraction=0.2, rng=1, stratify=True)
    np.testing.assert_array_equal(np.bincount(y_va), [10, 6, 4])
    np.testing.assert_array_equal(np.bincount(y_tr), [40, 24, 16])


def test_split_errors():
    with pytest.raises(ValueError, match="same number of samples"):
        train_val_split(np.zeros((10, 2)), np.zeros(9))
    with pytest.raises(ValueError, match="val_fraction"):
        train_val_split(np.zeros((10, 2)), np.zeros(10), val_fraction=1.0)
    with pytest.raises(ValueError, match="at least 2"):
        train_val_split(np.zeros((1, 2)), np.zeros(1))


# --------------------------------------------------------------------------- iterate_minibatches


@pytest.mark.parametrize("shuffle", [True, False])
def test_minibatches_cover_every_sample_once(shuffle):
    X = np.arange(23, dtype=float)[:, None] * np.ones((1, 3))
    y = np.arange(23)
    batches = list(iterate_minibatches(X, y, 5, shuffle=shuffle, rng=0))
    assert [len(yb) for _, yb in batches] == [5, 5, 5, 5, 3]  # last partial batch kept
    seen = np.concatenate([yb for _, yb in batches])
    assert sorted(seen.tolist()) == list(range(23))
    for Xb, yb in batches:
        np.testing.assert_array_equal(Xb[:, 0], yb)  # inputs stay with their labels
    if shuffle:
        assert seen.tolist() != list(range(23))
    else:
        assert seen.tolist() == list(range(23))


def test_minibatches_new_order_each_epoch_from_one_generator():
    X, y = np.zeros((30, 1)), np.arange(30)
    gen = np.random.default_rng(0)
    first = np.concatenate([yb for _, yb in iterate_minibatches(X, y, 7, rng=gen)])
    second = np.concatenate([yb for _, yb in iterate_minibatches(X, y, 7, rng=gen)])
    assert first.tolist() != second.tolist()


def test_minibatch_errors_raised_at_call_time():
    X, y = np.zeros((10, 2)), np.zeros(10)
    with pytest.raises(ValueError, match="batch_size"):
        iterate_minibatches(X, y, 0)
    with pytest.raises(ValueError, match="batch_size"):
        iterate_minibatches(X, y, -3)
    with pytest.raises(TypeError, match="batch_size"):
        iterate_minibatches(X, y, 2.5)
    with pytest.raises(ValueError, match="10 inputs and 9 targets"):
        iterate_minibatches(X, y[:9], 4)
