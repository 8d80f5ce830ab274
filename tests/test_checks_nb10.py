"""The notebook 10 checks pass on reference answers and name typical mistakes."""

from __future__ import annotations

import pytest

from nnscratch.checks import CheckFailed, nb10

torch = pytest.importorskip("torch")


def test_exported():
    import nnscratch.checks as checks

    for name in nb10.__all__:
        assert getattr(checks, name) is getattr(nb10, name)


def test_checks_draw_no_random_numbers():
    torch.manual_seed(0)
    want = torch.rand(3)
    torch.manual_seed(0)
    nb10.check_conv_params(lambda i, o, k: o * i * k * k + o)
    nb10.check_conv_output_size(lambda n, k, p, s: (n + 2 * p - k) // s + 1)
    assert torch.equal(torch.rand(3), want)


# ----------------------------------------------------------------------------- output size


def test_conv_output_size_reference(capsys):
    nb10.check_conv_output_size(lambda n, k, p=0, s=1: (n + 2 * p - k) // s + 1)
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda n, k, p, s: (n - k) // s + 1, "padding is ignored"),
        (lambda n, k, p, s: (n + p - k) // s + 1, "one side only"),
        (lambda n, k, p, s: n + 2 * p - k + 1, "stride is ignored"),
        (lambda n, k, p, s: (n + 2 * p - k) // s, r"\+ 1 is missing"),
        (lambda n, k, p, s: (n + 2 * p - k) / s + 1, "round down"),
        (lambda n, k, p, s: n, "torch gives"),
        (lambda n, k, p, s: "8", "return an int"),
    ],
)
def test_conv_output_size_mistakes(answer, message):
    with pytest.raises(CheckFailed, match=message):
        nb10.check_conv_output_size(answer)


# ----------------------------------------------------------------------------- parameters


def test_conv_params_reference(capsys):
    nb10.check_conv_params(lambda i, o, k: o * (i * k * k + 1))
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (lambda i, o, k: o * i * k * k, "bias is missing"),
        (lambda i, o, k: o * k * k + o, "input channels are missing"),
        (lambda i, o, k: o * i * k + o, "not k"),
        (lambda i, o, k: o * i * k * k + i, "out \\* in \\* k \\* k"),
    ],
)
def test_conv_params_mistakes(answer, message):
    with pytest.raises(CheckFailed, match=message):
        nb10.check_conv_params(answer)


# ----------------------------------------------------------------------------- move batch


def move_ok(batch, device):
    X, y = batch
    return X.to(device), y.to(device)


def move_not_kept(batch, device):
    X, y = batch
    X.to(device)
    y.to(device)
    return X, y


def move_only_x(batch, device):
    X, y = batch
    return X.to(device), y


def move_float_labels(batch, device):
    X, y = batch
    return X.to(device), y.to(device, torch.float32)


def test_move_batch_reference(capsys):
    nb10.check_move_batch(move_ok)
    nb10.check_move_batch(lambda batch, device: tuple(t.to(device) for t in batch))
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (move_not_kept, "nothing was moved.*returns a new one"),
        (move_only_x, "labels y stayed behind"),
        (move_float_labels, "dtypes changed"),
        (lambda batch, device: None, "returned None"),
        (lambda batch, device: batch[0].to(device), "pair"),
    ],
)
def test_move_batch_mistakes(answer, message):
    with pytest.raises(CheckFailed, match=message):
        nb10.check_move_batch(answer)
