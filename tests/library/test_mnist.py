"""MNIST download, verification, caching and IDX parsing, against a local HTTP server.

No real download happens: small generated IDX files are served from 127.0.0.1, and
their own SHA-256s are passed as ``checksums``.
"""

from __future__ import annotations

import gzip
import hashlib
import http.server
import socket
import struct
import threading

import numpy as np
import pytest

from nnscratch.data import (
    ChecksumError,
    DownloadError,
    fetch_mnist,
    load_mnist,
    mnist_available,
    read_idx,
)
from nnscratch.data.mnist import MNIST_FILES

N_TRAIN, N_TEST = 12, 5


def idx_bytes(array: np.ndarray) -> bytes:
    """Encode a uint8 array as an IDX file (magic 0x0000 08 ndim, big-endian dims)."""
    header = bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(np.uint8).tobytes()


def make_files(seed: int = 0) -> tuple[dict[str, bytes], dict[str, np.ndarray]]:
    """Small gzip-compressed MNIST look-alikes and the arrays inside them."""
    gen = np.random.default_rng(seed)
    arrays = {
        "train-images-idx3-ubyte.gz": gen.integers(0, 256, (N_TRAIN, 28, 28), dtype=np.uint8),
        "train-labels-idx1-ubyte.gz": gen.integers(0, 10, N_TRAIN, dtype=np.uint8),
        "t10k-images-idx3-ubyte.gz": gen.integers(0, 256, (N_TEST, 28, 28), dtype=np.uint8),
        "t10k-labels-idx1-ubyte.gz": gen.integers(0, 10, N_TEST, dtype=np.uint8),
    }
    files = {name: gzip.compress(idx_bytes(a), mtime=0) for name, a in arrays.items()}
    return files, arrays


FILES, ARRAYS = make_files()
CHECKSUMS = {name: hashlib.sha256(data).hexdigest() for name, data in FILES.items()}
CORRUPT_NAME = "train-labels-idx1-ubyte.gz"


class Handler(http.server.BaseHTTPRequestHandler):
    """Serves /good/<name>, /corrupt/<name> (one file altered), /partial/<name> (cut short)."""

    requests: list[str] = []

    def do_GET(self):  # noqa: N802 - name fixed by http.server
        Handler.requests.append(self.path)
        _, mode, name = self.path.split("/", 2)
        if name not in FILES or mode not in ("good", "corrupt", "partial"):
            self.send_error(404)
            return
        data = FILES[name]
        if mode == "corrupt" and name == CORRUPT_NAME:
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if mode == "partial":
            self.wfile.write(data[: len(data) // 2])  # then hang up early
            self.close_connection = True
            return
        self.wfile.write(data)

    def log_message(self, *args):  # keep pytest output clean
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture()
def dead_mirror():
    """A URL on a port where nothing listens (connection refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/mnist/"


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_download_and_parse(server, tmp_path, capsys):
    root = tmp_path / "mnist"
    (X_tr, y_tr), (X_te, y_te) = load_mnist(root, mirrors=[f"{server}/good/"], checksums=CHECKSUMS)
    assert X_tr.shape == (N_TRAIN, 784) and X_tr.dtype == np.float32
    assert X_te.shape == (N_TEST, 784)
    assert y_tr.dtype == np.int64 and y_tr.shape == (N_TRAIN,)
    assert 0.0 <= X_tr.min() and X_tr.max() <= 1.0
    np.testing.assert_allclose(
        X_tr.reshape(-1, 28, 28) * 255, ARRAYS["train-images-idx3-ubyte.gz"], atol=1e-4
    )
    np.testing.assert_array_equal(y_te, ARRAYS["t10k-labels-idx1-ubyte.gz"])
    assert leftovers(root) == sorted(MNIST_FILES)
    out = capsys.readouterr().out
    assert out.count("\n") == 4 and out.count("SHA-256 verified") == 4  # one line per file

    # second call: served from the cache, no new requests, and no output
    Handler.requests.clear()
    (X_again, _), _ = load_mnist(root, mirrors=[f"{server}/good/"], checksums=CHECKSUMS)
    assert Handler.requests == []
    np.testing.assert_array_equal(X_again, X_tr)
    assert capsys.readouterr().out == ""
    images, _ = load_mnist(root, download=False, checksums=CHECKSUMS, flatten=False)[0]
    assert images.shape == (N_TRAIN, 28, 28)


def test_falls_back_to_second_mirror(server, dead_mirror, tmp_path):
    root = tmp_path / "mnist"
    fetch_mnist(root, mirrors=[dead_mirror, f"{server}/good/"], checksums=CHECKSUMS, progress=False)
    assert leftovers(root) == sorted(MNIST_FILES)


def test_corrupt_file_is_never_cached(server, tmp_path):
    root = tmp_path / "mnist"
    with pytest.raises(DownloadError, match="SHA-256 mismatch") as info:
        fetch_mnist(root, mirrors=[f"{server}/corrupt/"], checksums=CHECKSUMS, progress=False)
    assert CORRUPT_NAME in str(info.value)
    left = leftovers(root)
    assert CORRUPT_NAME not in left
    assert not [name for name in left if name.endswith(".part")]
    # the good files fetched before it were verified and kept
    assert "train-images-idx3-ubyte.gz" in left


def test_corrupt_mirror_then_good_mirror(server, tmp_path):
    root = tmp_path / "mnist"
    fetch_mnist(
        root, mirrors=[f"{server}/corrupt/", f"{server}/good/"], checksums=CHECKSUMS, progress=False
    )
    assert (root / CORRUPT_NAME).read_bytes() == FILES[CORRUPT_NAME]


def test_partial_download_is_never_cached(server, tmp_path):
    root = tmp_path / "mnist"
    # the server hangs up early, so this fails at once; the timeout only guards against a hang
    # and is generous, so that a busy machine cannot make the test pass for the wrong reason
    with pytest.raises(DownloadError, match="SHA-256 mismatch|IncompleteRead") as info:
        fetch_mnist(
            root, mirrors=[f"{server}/partial/"], checksums=CHECKSUMS, progress=False, timeout=120
        )
    assert "timed out" not in str(info.value)
    assert leftovers(root) == []


def test_offline_error_names_mirrors_and_fix(dead_mirror, tmp_path):
    root = tmp_path / "mnist"
    other = dead_mirror.replace("/mnist/", "/other/")
    with pytest.raises(DownloadError) as info:
        load_mnist(root, mirrors=[dead_mirror, other], checksums=CHECKSUMS, progress=False)
    message = str(info.value)
    assert dead_mirror in message and other in message
    assert "nnscratch data --mnist" in message and str(root) in message
    assert isinstance(info.value, ConnectionError)
    assert leftovers(root) == []


def test_download_false_and_missing(tmp_path):
    root = tmp_path / "nowhere"
    with pytest.raises(FileNotFoundError, match="nnscratch data --mnist") as info:
        load_mnist(root, download=False)
    assert str(root) in str(info.value)
    assert not root.exists()  # nothing created, nothing downloaded


def test_corrupt_cached_file(server, tmp_path):
    root = tmp_path / "mnist"
    root.mkdir()
    for name, data in FILES.items():
        (root / name).write_bytes(data)
    (root / CORRUPT_NAME).write_bytes(b"garbage")
    with pytest.raises(ChecksumError, match=CORRUPT_NAME):
        load_mnist(root, download=False, checksums=CHECKSUMS)
    # with downloads allowed, the bad file is replaced by a verified copy
    load_mnist(root, mirrors=[f"{server}/good/"], checksums=CHECKSUMS, progress=False)
    assert (root / CORRUPT_NAME).read_bytes() == FILES[CORRUPT_NAME]


def test_mnist_available(tmp_path):
    assert not mnist_available(tmp_path)
    for name, data in FILES.items():
        (tmp_path / name).write_bytes(data)
    assert mnist_available(tmp_path)
    # our generated files are not the published ones
    assert not mnist_available(tmp_path, verify=True)


def test_default_root_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("NNSCRATCH_DATA", str(tmp_path))
    with pytest.raises(FileNotFoundError, match=str(tmp_path / "mnist")):
        load_mnist(download=False)


def test_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="http"):
        fetch_mnist(tmp_path, mirrors=["ftp://example.org/"], checksums=CHECKSUMS)
    with pytest.raises(ValueError, match="missing"):
        fetch_mnist(tmp_path, checksums={"train-images-idx3-ubyte.gz": "0" * 64})


# --------------------------------------------------------------------------- read_idx


def test_read_idx_plain_and_gzip(tmp_path):
    array = np.arange(24, dtype=np.uint8).reshape(2, 3, 4)
    plain = tmp_path / "a.idx"
    plain.write_bytes(idx_bytes(array))
    packed = tmp_path / "a.idx.gz"
    packed.write_bytes(gzip.compress(idx_bytes(array)))
    for path in (plain, packed):
        out = read_idx(path)
        assert out.dtype == np.uint8
        np.testing.assert_array_equal(out, array)


def test_read_idx_big_endian_int32(tmp_path):
    values = np.array([1, -2, 70000], dtype=">i4")
    path = tmp_path / "ints.idx"
    path.write_bytes(bytes([0, 0, 0x0C, 1]) + struct.pack(">I", 3) + values.tobytes())
    out = read_idx(path)
    np.testing.assert_array_equal(out, [1, -2, 70000])
    assert out.dtype.isnative


def test_read_idx_rejects_bad_magic(tmp_path):
    path = tmp_path / "bad.idx"
    path.write_bytes(b"\x12\x34\x08\x01" + struct.pack(">I", 2) + b"\x00\x01")
    with pytest.raises(ValueError, match="magic number"):
        read_idx(path)
    path.write_bytes(b"\x00\x00\x07\x01" + struct.pack(">I", 2) + b"\x00\x01")  # bad type code
    with pytest.raises(ValueError, match="2051"):
        read_idx(path)


def test_read_idx_rejects_truncated_data(tmp_path):
    path = tmp_path / "short.idx"
    path.write_bytes(bytes([0, 0, 8, 3]) + struct.pack(">3I", 2, 28, 28) + b"\x00" * 100)
    with pytest.raises(ValueError, match="data bytes"):
        read_idx(path)
