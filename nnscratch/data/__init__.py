"""Data sets for the course: toy 2-D problems, the packaged 8x8 digits, and MNIST.

Everything here needs NumPy only. ``load_digits`` works offline (the file ships with
the package); ``load_mnist`` downloads MNIST once into a cache folder, verified by SHA-256.
"""

from ._files import ChecksumError, data_home, sha256_file
from .digits import load_digits, verify_digits
from .mnist import DownloadError, fetch_mnist, load_mnist, mnist_available, read_idx
from .toy import (
    iterate_minibatches,
    make_blobs,
    make_circles,
    make_moons,
    make_spirals,
    make_xor,
    train_val_split,
)

__all__ = [
    "make_xor",
    "make_moons",
    "make_circles",
    "make_spirals",
    "make_blobs",
    "train_val_split",
    "iterate_minibatches",
    "load_digits",
    "verify_digits",
    "load_mnist",
    "fetch_mnist",
    "mnist_available",
    "read_idx",
    "data_home",
    "sha256_file",
    "ChecksumError",
    "DownloadError",
]
