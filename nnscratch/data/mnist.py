"""MNIST: download once, verify, cache, and parse the IDX files with NumPy alone.

The four gzip-compressed IDX files are fetched from the first mirror that answers and
checked against their published SHA-256 digests. A download goes to a temporary file in
the cache folder and is moved into place only after its digest matches, so a partial or
corrupt file is never left behind. Nothing is downloaded unless you ask for it
(``load_mnist(download=True)``, the default, or ``nnscratch data --mnist``).
"""

from __future__ import annotations

import gzip
import hashlib
import os
import tempfile
import urllib.parse
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np

from ._files import ChecksumError, data_home, sha256_file

__all__ = [
    "DEFAULT_MIRRORS",
    "MNIST_FILES",
    "DownloadError",
    "fetch_mnist",
    "load_mnist",
    "mnist_available",
    "mnist_root",
    "read_idx",
]

# Base URLs; a file's URL is the base followed by its name.
DEFAULT_MIRRORS: tuple[str, ...] = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
)

# File name -> published SHA-256.
MNIST_FILES: dict[str, str] = {
    "train-images-idx3-ubyte.gz": (
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609"
    ),
    "train-labels-idx1-ubyte.gz": (
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"
    ),
    "t10k-images-idx3-ubyte.gz": (
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6"
    ),
    "t10k-labels-idx1-ubyte.gz": (
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6"
    ),
}

IDX_IMAGES_MAGIC = 2051  # 0x00000803: unsigned bytes, 3 dimensions
IDX_LABELS_MAGIC = 2049  # 0x00000801: unsigned bytes, 1 dimension

# IDX type code (third byte of the magic number) -> big-endian NumPy dtype.
_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}

_HOW_TO_GET = (
    "Run `nnscratch data --mnist` on a machine with internet access, or copy the four "
    "files ({names}) into {root}"
)


class DownloadError(ConnectionError):
    """No mirror delivered a file with the expected SHA-256 (offline, or all mirrors bad)."""


def mnist_root(root: str | os.PathLike[str] | None = None) -> Path:
    """Folder holding the four MNIST files: ``root`` if given, else ``data_home() / "mnist"``.

    ``data_home()`` is ``$NNSCRATCH_DATA`` or ``~/.cache/nnscratch``.
    """
    return Path(root).expanduser() if root is not None else data_home() / "mnist"


def _checksums(checksums: Mapping[str, str] | None) -> dict[str, str]:
    """Expected digests: the published ones, or ``checksums`` (for tests and other copies)."""
    if checksums is None:
        return dict(MNIST_FILES)
    missing = sorted(set(MNIST_FILES) - set(checksums))
    if missing:
        raise ValueError(f"checksums must give a SHA-256 for every MNIST file; missing {missing}")
    return {name: str(checksums[name]).lower() for name in MNIST_FILES}


def _mirrors(mirrors: str | Sequence[str] | None) -> list[str]:
    """Check the mirror list: base URLs with http, https or file scheme."""
    if mirrors is None:
        return list(DEFAULT_MIRRORS)
    if isinstance(mirrors, str):
        mirrors = [mirrors]
    result = []
    for url in mirrors:
        if not isinstance(url, str):
            raise TypeError(f"mirrors must be URL strings, got {url!r} ({type(url).__name__})")
        scheme = urllib.parse.urlsplit(url).scheme
        if scheme not in ("http", "https", "file"):
            raise ValueError(
                f"mirror URLs must start with http://, https:// or file://, got {url!r}"
            )
        result.append(url if url.endswith("/") else url + "/")
    if not result:
        raise ValueError("mirrors must name at least one URL")
    return result


def mnist_available(root: str | os.PathLike[str] | None = None, *, verify: bool = False) -> bool:
    """Whether all four MNIST files are in the cache (never downloads anything).

    Args:
        root: folder to look in (default: see :func:`mnist_root`).
        verify: also check every file's SHA-256 against the published digest
            (slower: reads about 11 MB).
    """
    folder = mnist_root(root)
    for name, expected in MNIST_FILES.items():
        path = folder / name
        if not path.is_file() or path.stat().st_size == 0:
            return False
        if verify and sha256_file(path) != expected:
            return False
    return True


def _download(url: str, dest: Path, expected: str, timeout: float) -> None:
    """Fetch ``url`` into ``dest`` atomically, or raise; never leaves a partial file.

    Raises:
        OSError: (including ``urllib.error.URLError``) if the mirror does not answer.
        ChecksumError: if the downloaded bytes have the wrong SHA-256.
    """
    import urllib.request  # network modules load only when a download really happens

    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as resp:
            while chunk := resp.read(1 << 16):
                digest.update(chunk)
                out.write(chunk)
        if digest.hexdigest() != expected:
            raise ChecksumError(
                f"SHA-256 mismatch for {url}: got {digest.hexdigest()}, expected {expected}"
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)


def fetch_mnist(
    root: str | os.PathLike[str] | None = None,
    *,
    mirrors: str | Sequence[str] | None = None,
    checksums: Mapping[str, str] | None = None,
    timeout: float = 30.0,
    progress: bool = True,
) -> Path:
    """Download whichever of the four MNIST files are missing or corrupt; return the folder.

    Files already present with the right SHA-256 are kept and nothing is downloaded for
    them. Each missing file is taken from the first mirror that delivers it with the right SHA-256.

    Args:
        root: folder for the files (default: see :func:`mnist_root`); created if needed.
        mirrors: base URLs to try in order (default :data:`DEFAULT_MIRRORS`).
        checksums: expected SHA-256 per file name (default: the published ones).
        timeout: seconds to wait for a mirror before trying the next.
        progress: print one line per file downloaded.

    Returns:
        The folder holding the four verified files.

    Raises:
        DownloadError: if some file could not be had from any mirror; the message names
            every mirror tried and what went wrong.
    """
    folder = mnist_root(root)
    expected_all = _checksums(checksums)
    urls = _mirrors(mirrors)
    folder.mkdir(parents=True, exist_ok=True)
    for name, expected in expected_all.items():
        dest = folder / name
        if dest.is_file() and sha256_file(dest) == expected:
            continue
        import http.client
        import urllib.error

        failures = []
        for base in urls:
            url = base + name
            if progress:
                print(f"Downloading {name} from {base} ...", end=" ", flush=True)
            try:
                _download(url, dest, expected, timeout)
            except (OSError, http.client.HTTPException, ChecksumError) as exc:
                plain_url_error = isinstance(exc, urllib.error.URLError) and not isinstance(
                    exc, urllib.error.HTTPError
                )
                reason = getattr(exc, "reason", exc) if plain_url_error else exc
                failures.append(f"  {url}: {reason}")
                if progress:
                    print("failed", flush=True)
                continue
            if progress:
                size = dest.stat().st_size / 1e6
                print(f"done ({size:.1f} MB, SHA-256 verified)", flush=True)
            break
        else:
            how = _HOW_TO_GET.format(names=", ".join(expected_all), root=folder)
            raise DownloadError(
                f"could not download {name} from any mirror:\n" + "\n".join(failures) + f"\n{how}."
            )
    return folder


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzip-compressed or not.

    The header is a 4-byte magic number (two zero bytes, a type code, the number of
    dimensions; 2051 for MNIST images, 2049 for labels) followed by one big-endian
    uint32 per dimension; the data follow in C order.

    Returns:
        The array, shape given by the header (``(n, 28, 28)`` for MNIST images,
        ``(n,)`` for labels), in native byte order (``uint8`` for MNIST).

    Raises:
        ValueError: if the magic number is not an IDX one or the data length does not
            match the header.
    """
    path = Path(path)
    with open(path, "rb") as f:
        gz = f.read(2) == b"\x1f\x8b"
    opener = gzip.open if gz else open
    with opener(path, "rb") as f:
        raw = f.read()
    if len(raw) < 4:
        raise ValueError(f"{path} is not an IDX file: only {len(raw)} bytes")
    magic = int.from_bytes(raw[:4], "big")
    zero, type_code, ndim = raw[0:2], raw[2], raw[3]
    if zero != b"\x00\x00" or type_code not in _IDX_DTYPES or ndim == 0:
        raise ValueError(
            f"{path} is not an IDX file: bad magic number {magic} (0x{magic:08x}); expected "
            f"{IDX_IMAGES_MAGIC} (images) or {IDX_LABELS_MAGIC} (labels) as in MNIST"
        )
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise ValueError(f"{path}: IDX header says {ndim} dimensions but the file ends early")
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_DTYPES[type_code]
    expected = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    if len(raw) - header_len != expected:
        raise ValueError(
            f"{path}: IDX header promises shape {shape} ({expected} data bytes) but the "
            f"file holds {len(raw) - header_len} data bytes"
        )
    data = np.frombuffer(raw, dtype=dtype, offset=header_len).reshape(shape)
    return data.astype(dtype.newbyteorder("="))


def _load_pair(
    folder: Path, images_name: str, labels_name: str, flatten: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Parse one images/labels pair into (X float32 in [0, 1], y int64), checking headers."""
    images = read_idx(folder / images_name)
    labels = read_idx(folder / labels_name)
    if images.ndim != 3 or images.dtype != np.uint8:
        raise ValueError(
            f"{images_name}: expected uint8 images (n, rows, cols), got "
            f"{images.dtype} {images.shape}"
        )
    if labels.ndim != 1 or len(labels) != len(images):
        raise ValueError(f"{labels_name}: expected {len(images)} labels, got shape {labels.shape}")
    X = images.astype(np.float32) / np.float32(255.0)
    if flatten:
        X = X.reshape(len(X), -1)
    return X, labels.astype(np.int64)


def load_mnist(
    root: str | os.PathLike[str] | None = None,
    *,
    download: bool = True,
    mirrors: str | Sequence[str] | None = None,
    checksums: Mapping[str, str] | None = None,
    flatten: bool = True,
    timeout: float = 30.0,
    progress: bool = True,
) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Load MNIST (70,000 handwritten digits, 28x28), downloading it once if allowed.

    Files are verified by SHA-256 every time they are loaded.

    Args:
        root: folder holding the four IDX ``.gz`` files (default ``$NNSCRATCH_DATA/mnist``
            or ``~/.cache/nnscratch/mnist``).
        download: fetch missing or corrupt files from ``mirrors``; if False, raise instead.
        mirrors: base URLs to try in order (default :data:`DEFAULT_MIRRORS`).
        checksums: expected SHA-256 per file name (default: the published ones).
        flatten: return images as rows of 784 pixels (True) or as 28x28 arrays (False).
        timeout: seconds to wait for a mirror before trying the next.
        progress: print one line per file downloaded.

    Returns:
        ``((X_train, y_train), (X_test, y_test))`` where ``X_train`` is float32 of shape
        ``(60000, 784)`` (or ``(60000, 28, 28)``) with pixel values scaled to ``[0, 1]``
        (0 = background), ``y_train`` int64 of shape ``(60000,)`` with digits 0..9, and
        the test pair has 10,000 samples. float32 halves the memory (about 220 MB in all);
        use ``X.astype(np.float64)`` if you need double precision.

    Raises:
        FileNotFoundError: if ``download=False`` and a file is missing.
        ChecksumError: if ``download=False`` and a file is corrupt.
        DownloadError: if a file could not be downloaded from any mirror.
    """
    folder = mnist_root(root)
    expected = _checksums(checksums)
    if download:
        fetch_mnist(folder, mirrors=mirrors, checksums=expected, timeout=timeout, progress=progress)
    else:
        bad = [name for name in expected if not (folder / name).is_file()]
        if bad:
            how = _HOW_TO_GET.format(names=", ".join(expected), root=folder)
            raise FileNotFoundError(
                f"MNIST files missing from {folder}: {', '.join(bad)}. {how}, "
                "or call load_mnist(download=True)."
            )
        for name, digest in expected.items():
            actual = sha256_file(folder / name)
            if actual != digest:
                raise ChecksumError(
                    f"{folder / name} is corrupt: SHA-256 {actual}, expected {digest}. "
                    "Delete it and run `nnscratch data --mnist`."
                )
    train = _load_pair(folder, "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", flatten)
    test = _load_pair(folder, "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", flatten)
    return train, test
