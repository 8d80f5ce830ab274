"""nnscratch.torch_utils: device choice, nnscratch <-> torch conversion with the same numbers,
the device-agnostic training loop, checkpoints, the small CNN and the timing helper.

Everything runs on the CPU; exact comparisons are made in float64.
"""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import nnscratch as nn
from nnscratch.data import load_digits, make_blobs, train_val_split
from nnscratch.layers import MLP, Dropout, Flatten, Linear, Module, ReLU, Sequential, Sigmoid, Tanh
from nnscratch.losses import CrossEntropyLoss
from nnscratch.optim import SGD

torch = pytest.importorskip("torch")
tu = pytest.importorskip("nnscratch.torch_utils")
torch.set_num_threads(1)


# ----------------------------------------------------------------------------- import


def test_import_nnscratch_does_not_import_torch():
    code = "import sys, nnscratch, nnscratch.checks; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_reached_as_attribute():
    assert nn.torch_utils is tu


# ----------------------------------------------------------------------------- devices


@pytest.fixture
def no_accelerator(monkeypatch):
    monkeypatch.delenv(tu.DEVICE_ENV, raising=False)
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)


def test_get_device_cpu_only(no_accelerator):
    assert tu.get_device() == torch.device("cpu")
    assert tu.get_device("auto") == torch.device("cpu")
    assert tu.get_device("CPU") == torch.device("cpu")
    assert tu.get_device(torch.device("cpu")) == torch.device("cpu")


def test_get_device_prefers_cuda_then_mps(no_accelerator, monkeypatch):
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert tu.get_device() == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert tu.get_device() == torch.device("cuda")
    # forcing the CPU works even when a GPU is there
    assert tu.get_device("cpu") == torch.device("cpu")


def test_get_device_env_var_forces(no_accelerator, monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setenv(tu.DEVICE_ENV, "cpu")
    assert tu.get_device() == torch.device("cpu")
    # an explicit argument wins over the environment variable
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    assert tu.get_device("cuda") == torch.device("cuda")


def test_get_device_unavailable_is_a_clear_error(no_accelerator, monkeypatch):
    with pytest.raises(RuntimeError, match="CUDA is not available"):
        tu.get_device("cuda")
    with pytest.raises(RuntimeError, match="MPS is not available"):
        tu.get_device("mps")
    monkeypatch.setenv(tu.DEVICE_ENV, "cuda")
    with pytest.raises(RuntimeError, match="NNSCRATCH_DEVICE"):
        tu.get_device()


@pytest.mark.parametrize(("value", "expected"), [("cpu", "cpu"), (" CPU ", "cpu"), ("auto", "cuda"),
                                               ("", "cuda"), ("cuda:0", "cuda:0")])
def test_get_device_env_var_values(no_accelerator, monkeypatch, value, expected):
    # `make execute` / `make test` set NNSCRATCH_DEVICE=cpu so a GPU machine reproduces the
    # stored CPU outputs; an empty value means "not set"
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setenv(tu.DEVICE_ENV, value)
    assert tu.get_device() == torch.device(expected)


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "cpu:0", "CUDA=1", "1"])
def test_get_device_bad_env_var_names_the_variable(no_accelerator, monkeypatch, bad):
    monkeypatch.setenv(tu.DEVICE_ENV, bad)
    with pytest.raises(ValueError, match=r"unknown device .*NNSCRATCH_DEVICE.*expected 'auto'"):
        tu.get_device()


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "cpu:0", "tpu", ""])
def test_get_device_unknown_name(no_accelerator, bad):
    with pytest.raises(ValueError, match="unknown device"):
        tu.get_device(bad) if bad else tu.get_device(" ")


def test_get_device_bad_type():
    with pytest.raises(TypeError, match="device name"):
        tu.get_device(3)


def test_amp_dtype():
    assert tu.amp_dtype("cpu") == torch.bfloat16
    assert tu.amp_dtype(torch.device("cuda")) == torch.float16


# ----------------------------------------------------------------------------- conversion


def _all_kinds_model() -> Sequential:
    return Sequential(
        Flatten(),
        Linear(12, 8, rng=1, init="torch"),
        Tanh(),
        Linear(8, 6, rng=2),
        Sigmoid(),
        Dropout(0.3),
        Linear(6, 5, rng=3),
        ReLU(),
        Linear(5, 3, bias=False, rng=4),
    )


def test_to_torch_same_outputs_and_structure(rng):
    model = _all_kinds_model().eval()
    tmodel = tu.to_torch(model)
    assert isinstance(tmodel, torch.nn.Sequential)
    assert [type(m).__name__ for m in tmodel] == [
        "Flatten",
        "Linear",
        "Tanh",
        "Linear",
        "Sigmoid",
        "Dropout",
        "Linear",
        "ReLU",
        "Linear",
    ]
    assert tmodel[5].p == 0.3 and tmodel[8].bias is None
    assert not tmodel.training
    x = rng.normal(size=(7, 3, 4))
    out = tmodel(torch.from_numpy(x)).detach().numpy()
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, model(x), rtol=0, atol=1e-12)


def test_to_torch_copies_weights_not_shares():
    model = MLP([4, 3, 2], rng=0)
    tmodel = tu.to_torch(model)
    with torch.no_grad():
        tmodel[0].weight.add_(1.0)
    assert not np.allclose(tmodel[0].weight.detach().numpy(), model[0].weight.data)


def test_to_torch_does_not_touch_torch_rng():
    torch.manual_seed(123)
    before = torch.rand(3)
    torch.manual_seed(123)
    tu.to_torch(MLP([5, 4, 3], rng=0))
    assert torch.equal(torch.rand(3), before)


def test_to_torch_same_gradients(rng):
    model = MLP([6, 5, 4, 3], rng=0)
    tmodel = tu.to_torch(model)
    x = rng.normal(size=(8, 6))
    y = rng.integers(0, 3, size=8)
    loss = CrossEntropyLoss()
    loss(model(x), y)
    dx = model.backward(loss.backward())
    xt = torch.from_numpy(x).requires_grad_(True)
    torch.nn.functional.cross_entropy(tmodel(xt), torch.from_numpy(y)).backward()
    for p, q in zip(model.parameters(), tmodel.parameters(), strict=True):
        np.testing.assert_allclose(q.grad.numpy(), p.grad, rtol=0, atol=1e-12)
    np.testing.assert_allclose(xt.grad.numpy(), dx, rtol=0, atol=1e-12)


def test_to_torch_float32_and_device():
    model = MLP([3, 2], rng=0)
    tmodel = tu.to_torch(model, dtype=torch.float32, device="cpu")
    assert tmodel[0].weight.dtype == torch.float32
    assert tu.to_torch(model, dtype=np.float32)[0].weight.dtype == torch.float32
    assert tu.to_torch(MLP([3, 2], rng=0, dtype=np.float32))[0].weight.dtype == torch.float32


def test_to_torch_rejects_unsupported():
    class Square(Module):
        def forward(self, x):
            return x * x

    with pytest.raises(TypeError, match="cannot convert a Square.*supports Linear"):
        tu.to_torch(Sequential(Linear(2, 2), Square()))
    with pytest.raises(TypeError, match="nnscratch Module"):
        tu.to_torch(torch.nn.Linear(2, 2))
    with pytest.raises(TypeError, match="float32 or torch.float64"):
        tu.to_torch(MLP([2, 2]), dtype=torch.float16)
    with pytest.raises(TypeError, match="float32 or float64"):
        tu.to_torch(MLP([2, 2]), dtype=np.int64)


def test_from_torch_round_trip(rng):
    model = _all_kinds_model().eval()
    back = tu.from_torch(tu.to_torch(model))
    assert [type(m) for m in back] == [type(m) for m in model]
    assert not back.training
    x = rng.normal(size=(4, 12))
    np.testing.assert_array_equal(back(x), model(x))


def test_from_torch_rejects_unsupported():
    with pytest.raises(TypeError, match="cannot convert a Conv2d"):
        tu.from_torch(torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3)))
    with pytest.raises(TypeError, match="torch.nn.Module"):
        tu.from_torch(MLP([2, 2]))


def test_count_parameters():
    conv = torch.nn.Conv2d(3, 4, 5)
    assert tu.count_parameters(conv) == 4 * 3 * 25 + 4
    conv.bias.requires_grad_(False)
    assert tu.count_parameters(conv) == 4 * 3 * 25
    assert tu.count_parameters(conv, trainable_only=False) == 4 * 3 * 25 + 4


# ----------------------------------------------------------------------------- training


def test_to_tensor_types():
    x = tu.to_tensor(np.arange(6, dtype=np.float64).reshape(2, 3), dtype=torch.float32)
    assert x.dtype == torch.float32 and x.shape == (2, 3)
    y = tu.to_tensor(np.array([1, 2], dtype=np.int32), dtype=torch.float32)
    assert y.dtype == torch.int64


def test_train_matches_nnscratch_fit_step_for_step():
    X, y = make_blobs(120, centers=3, rng=0)
    model = MLP([2, 8, 3], rng=0)
    tmodel = tu.to_torch(model)
    h_np = nn.fit(
        model,
        CrossEntropyLoss(),
        SGD(model.parameters(), lr=0.1, momentum=0.9),
        X,
        y,
        epochs=4,
        batch_size=16,
        rng=np.random.default_rng(3),
        validation=(X[:30], y[:30]),
        verbose=False,
    )
    h_t = tu.train(
        tmodel,
        torch.nn.CrossEntropyLoss(),
        torch.optim.SGD(tmodel.parameters(), lr=0.1, momentum=0.9),
        X,
        y,
        epochs=4,
        batch_size=16,
        seed=3,
        validation=(X[:30], y[:30]),
        verbose=False,
    )
    assert isinstance(h_t, nn.training.History)
    np.testing.assert_allclose(h_t.loss, h_np.loss, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_t.acc, h_np.acc)
    np.testing.assert_allclose(h_t.val_loss, h_np.val_loss, rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_t.val_acc, h_np.val_acc)
    assert h_t.lr == [0.1] * 4 and h_t.seconds > 0
    for p, q in zip(model.parameters(), tmodel.parameters(), strict=True):
        np.testing.assert_allclose(q.detach().numpy(), p.data, rtol=0, atol=1e-12)


@pytest.fixture(scope="module")
def digits_split():
    X, y = load_digits()
    return train_val_split(X / 16, y, 0.25, rng=0, stratify=True)


def test_train_reaches_good_accuracy_and_is_reproducible(digits_split, capsys):
    Xtr, Xte, ytr, yte = digits_split

    def run():
        torch.manual_seed(0)
        model = torch.nn.Sequential(
            torch.nn.Linear(64, 32), torch.nn.ReLU(), torch.nn.Dropout(0.1), torch.nn.Linear(32, 10)
        )
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
        hist = tu.train(
            model,
            torch.nn.CrossEntropyLoss(),
            opt,
            Xtr,
            ytr,
            epochs=12,
            batch_size=64,
            device="cpu",
            scheduler=sched,
            seed=1,
        )
        return model, hist

    model, hist = run()
    lines = capsys.readouterr().out.strip().splitlines()
    assert 2 <= len(lines) <= 12 and lines[-1].startswith("epoch 12/12")
    assert hist.loss[-1] < hist.loss[0]
    assert hist.lr[0] == 1e-2 and hist.lr[-1] == pytest.approx(1e-2 / 4)
    assert tu.accuracy(model, Xte, yte) > 0.9
    loss, acc = tu.evaluate(model, torch.nn.CrossEntropyLoss(), Xte, yte)
    assert acc == tu.accuracy(model, Xte, yte) and 0 < loss < 0.5
    assert model.training  # evaluate/accuracy restore the mode
    model2, hist2 = run()
    assert hist2.loss == hist.loss
    for p, q in zip(model.parameters(), model2.parameters(), strict=True):
        assert torch.equal(p, q)


def test_predict_logits_keeps_dtype_and_mode(rng):
    model = MLP([5, 4, 3], rng=0)
    tmodel = tu.to_torch(model)
    X = rng.normal(size=(7, 5))
    out = tu.predict_logits(tmodel, X, batch_size=3)
    assert out.dtype == torch.float64 and tmodel.training
    np.testing.assert_allclose(out.numpy(), model(X), rtol=0, atol=1e-12)
    half = tu.predict_logits(tu.to_torch(model, dtype=torch.float32), X, amp=True)
    assert half.dtype == torch.float32 and half.shape == (7, 3)
    np.testing.assert_allclose(half.numpy(), model(X), atol=0.1)


def test_train_verbose_modes(capsys):
    X, y = make_blobs(40, centers=2, rng=0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 2)).double()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    tu.train(model, torch.nn.CrossEntropyLoss(), opt, X, y, epochs=3, verbose=False)
    assert capsys.readouterr().out == ""
    tu.train(model, torch.nn.CrossEntropyLoss(), opt, X, y, epochs=4, verbose=2)
    assert len(capsys.readouterr().out.strip().splitlines()) == 3  # epochs 1, 2, 4


def test_train_regression_has_nan_accuracy():
    X = np.linspace(-1, 1, 20).reshape(-1, 1)
    model = torch.nn.Linear(1, 1).double()
    hist = tu.train(
        model,
        torch.nn.MSELoss(),
        torch.optim.SGD(model.parameters(), lr=0.1),
        X,
        2 * X,
        epochs=2,
        verbose=False,
    )
    assert np.isnan(hist.acc).all() and hist.loss[1] < hist.loss[0]


def test_train_amp_on_cpu_bfloat16():
    X, y = make_blobs(64, centers=2, rng=0)
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(2, 8), torch.nn.ReLU(), torch.nn.Linear(8, 2))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    hist = tu.train(
        model, torch.nn.CrossEntropyLoss(), opt, X, y, epochs=5, amp=True, verbose=False
    )
    assert hist.loss[-1] < hist.loss[0]
    assert model[0].weight.dtype == torch.float32  # autocast leaves the weights in float32


def test_train_diverges_with_clear_message():
    X, y = make_blobs(32, centers=2, rng=0)
    X[3, 0] = np.nan
    model = torch.nn.Linear(2, 2).double()
    with pytest.raises(nn.training.TrainingDiverged, match="epoch 1 of 2.*learning rate"):
        tu.train(
            model,
            torch.nn.CrossEntropyLoss(),
            torch.optim.SGD(model.parameters(), lr=0.1),
            X,
            y,
            epochs=2,
            batch_size=64,
            verbose=False,
        )


def test_train_bad_arguments():
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    X, y = np.zeros((4, 2)), np.zeros(4, dtype=int)
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        tu.train(model, torch.nn.CrossEntropyLoss(), opt, X, y, epochs=0)
    with pytest.raises(ValueError, match="batch_size"):
        tu.train(model, torch.nn.CrossEntropyLoss(), opt, X, y, epochs=1, batch_size=0)
    with pytest.raises(ValueError, match="4 samples but y has 3"):
        tu.train(model, torch.nn.CrossEntropyLoss(), opt, X, y[:3], epochs=1)


# ----------------------------------------------------------------------------- checkpoints


def test_checkpoint_round_trip(tmp_path, rng):
    torch.manual_seed(0)
    model = tu.small_cnn()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.from_numpy(rng.random((6, 1, 8, 8))).float()
    y = torch.arange(6)
    torch.nn.functional.cross_entropy(model(x), y).backward()
    opt.step()
    path = tu.save_checkpoint(tmp_path / "cnn.pt", model, opt, epoch=3, test_acc=0.99)
    model.eval()
    want = model(x)

    torch.manual_seed(1)
    fresh = tu.small_cnn().eval()
    fresh_opt = torch.optim.Adam(fresh.parameters(), lr=1e-3)
    assert not torch.equal(fresh(x), want)
    extra = tu.load_checkpoint(path, fresh, fresh_opt, map_location="cpu")
    assert extra == {"epoch": 3, "test_acc": 0.99}
    assert torch.equal(fresh(x), want)
    assert fresh_opt.state_dict()["state"][0]["step"] == 1


def test_checkpoint_errors(tmp_path):
    model = torch.nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    with pytest.raises(FileNotFoundError, match="no checkpoint"):
        tu.load_checkpoint(tmp_path / "missing.pt", model)
    path = tu.save_checkpoint(tmp_path / "m.pt", model)
    with pytest.raises(ValueError, match="no optimizer state"):
        tu.load_checkpoint(path, model, opt)
    with pytest.raises(RuntimeError):
        tu.load_checkpoint(path, torch.nn.Linear(3, 2))
    with pytest.raises(FileNotFoundError, match="does not exist"):
        tu.save_checkpoint(tmp_path / "nope" / "m.pt", model)


# ----------------------------------------------------------------------------- CNN, data, timing


def test_small_cnn_shapes():
    torch.manual_seed(0)
    model = tu.small_cnn()
    assert model(torch.zeros(5, 1, 8, 8)).shape == (5, 10)
    assert model.conv1.weight.shape == (16, 1, 3, 3)
    assert tu.count_parameters(model) == (16 * 9 + 16) + (32 * 16 * 9 + 32) + (32 * 16 * 10 + 10)
    wide = tu.small_cnn(3, (4, 6), image_size=12)
    assert wide(torch.zeros(2, 1, 12, 12)).shape == (2, 3)
    with pytest.raises(ValueError, match="image_size"):
        tu.small_cnn(image_size=7)


def test_shifted_copies():
    X = torch.zeros(2, 1, 4, 4)
    X[0, 0, 1, 2] = 1.0
    Xa, ya = tu.shifted_copies(X, np.array([3, 5]))
    assert Xa.shape == (10, 1, 4, 4) and ya.tolist() == [3, 5] * 5
    ones = [tuple(torch.nonzero(Xa[k, 0]).tolist()[0]) for k in (0, 2, 4, 6, 8)]
    assert ones == [(1, 2), (2, 2), (0, 2), (1, 3), (1, 1)]
    assert Xa[1::2].abs().sum() == 0
    with pytest.raises(ValueError, match=r"\(n, C, H, W\)"):
        tu.shifted_copies(torch.zeros(2, 16), [0, 1])


def test_time_training():
    X, y = make_blobs(50, centers=2, rng=0)

    def make():
        return torch.nn.Linear(2, 2)

    timing = tu.time_training(make, X, y, device="cpu", epochs=2, batch_size=16)
    assert timing.samples == 100 and timing.seconds > 0
    assert timing.samples_per_s == pytest.approx(100 / timing.seconds)
    assert str(timing).startswith("device=cpu ") and "samples/s" in str(timing)
