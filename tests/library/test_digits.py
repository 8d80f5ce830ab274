"""The packaged 8x8 digits: shape, values, checksum and tamper detection."""

from __future__ import annotations

import gzip
import shutil

import numpy as np
import pytest

from nnscratch.data import ChecksumError, load_digits, verify_digits
from nnscratch.data import digits as digits_module


def test_shape_dtype_and_values():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0 and X.max() == 16
    np.testing.assert_array_equal(X, np.round(X))  # whole-number pixel counts
    counts = np.bincount(y)
    assert len(counts) == 10 and counts.min() >= 170  # ten roughly balanced classes


def test_first_image_is_a_zero():
    X, y = load_digits(return_images=True)
    assert X.shape == (1797, 8, 8)
    assert y[0] == 0
    # a zero has ink around a hole: the centre is lighter than the ring around it
    assert X[0, 3:5, 3:5].mean() < X[0, 1:7, 1:7].mean()


def test_returns_fresh_copies():
    X, y = load_digits()
    X[:] = -1
    y[:] = -1
    X2, y2 = load_digits()
    assert X2.min() == 0 and y2.min() == 0


def test_checksum_of_packaged_file():
    assert verify_digits() == digits_module.DIGITS_SHA256


def test_tampered_file_is_rejected(tmp_path, monkeypatch):
    bad = tmp_path / "digits.csv.gz"
    with gzip.open(digits_module.DIGITS_FILE, "rt") as f:
        lines = f.read().splitlines()
    lines[0] = lines[0].replace("13", "12", 1)  # one pixel changed, still valid CSV
    with gzip.open(bad, "wt") as f:
        f.write("\n".join(lines) + "\n")
    monkeypatch.setattr(digits_module, "DIGITS_FILE", bad)
    with pytest.raises(ChecksumError, match="corrupt"):
        load_digits()
    with pytest.raises(ChecksumError, match="SHA-256"):
        verify_digits(bad)


def test_missing_file_is_reported(tmp_path, monkeypatch):
    monkeypatch.setattr(digits_module, "DIGITS_FILE", tmp_path / "nope.csv.gz")
    with pytest.raises(FileNotFoundError, match="missing"):
        load_digits()


def test_good_copy_elsewhere_loads(tmp_path, monkeypatch):
    copy = tmp_path / "digits.csv.gz"
    shutil.copy(digits_module.DIGITS_FILE, copy)
    monkeypatch.setattr(digits_module, "DIGITS_FILE", copy)
    X, y = load_digits()
    assert X.shape == (1797, 64) and y[:3].tolist() == [0, 1, 2]
