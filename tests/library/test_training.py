"""nnscratch.training: fit, History, divergence, progress output, early stopping, metrics,
and one end-to-end run on the packaged digits."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from nnscratch.data import load_digits, make_blobs, train_val_split
from nnscratch.layers import MLP, Linear, Module, Sequential
from nnscratch.losses import BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from nnscratch.optim import SGD, Adam, StepLR
from nnscratch.training import (
    History,
    TrainingDiverged,
    accuracy,
    confusion_matrix,
    evaluate,
    fit,
    predict,
    predict_proba,
)


def _regression(n: int = 64, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    gen = np.random.default_rng(seed)
    X = gen.normal(size=(n, 3))
    return X, X @ np.array([[1.0], [-2.0], [0.5]]) + 0.3


def _blobs() -> tuple[np.ndarray, np.ndarray]:
    return make_blobs(120, centers=3, std=1.0, rng=0)


def test_fit_regression_learns_and_fills_history():
    X, y = _regression()
    model = Linear(3, 1, rng=0)
    hist = fit(model, MSELoss(), SGD(model.parameters(), lr=0.05), X, y, epochs=40,
               batch_size=16, rng=0, verbose=False)  # fmt: skip
    assert isinstance(hist, History) and hist.epochs == 40
    assert hist.loss[-1] < 1e-3 < hist.loss[0]
    assert all(np.isnan(a) for a in hist.acc)  # accuracy means nothing for regression
    assert hist.lr == [0.05] * 40 and hist.seconds > 0
    assert hist.val_loss == [] and hist.best_epoch is None and not hist.stopped_early
    assert set(hist.as_dict()) == {"loss", "acc"}
    np.testing.assert_allclose(model.weight.data, [[1.0, -2.0, 0.5]], atol=0.03)


def test_fit_classification_with_validation_curves():
    X, y = _blobs()
    Xtr, Xval, ytr, yval = train_val_split(X, y, 0.25, rng=0)
    model = MLP([2, 16, 3], rng=0)
    hist = fit(model, CrossEntropyLoss(), Adam(model.parameters(), lr=0.01), Xtr, ytr,
               epochs=20, validation=(Xval, yval), rng=0, verbose=False)  # fmt: skip
    assert len(hist.val_loss) == len(hist.val_acc) == 20
    assert set(hist.as_dict()) == {"loss", "acc", "val_loss", "val_acc"}
    assert hist.acc[-1] > 0.9 and hist.val_acc[-1] > 0.9
    assert hist.val_loss[-1] < hist.val_loss[0]
    loss, acc = evaluate(model, CrossEntropyLoss(), Xval, yval)
    assert loss == pytest.approx(hist.val_loss[-1]) and acc == pytest.approx(hist.val_acc[-1])


def test_fit_binary_logit_with_integer_labels():
    X, y = make_blobs(100, centers=2, std=1.0, rng=2)
    model = MLP([2, 8, 1], rng=0)
    hist = fit(model, BCEWithLogitsLoss(), SGD(model.parameters(), lr=0.1, momentum=0.9),
               X, y, epochs=15, rng=0, verbose=False)  # fmt: skip
    assert hist.acc[-1] > 0.95
    assert predict(model, X, loss=BCEWithLogitsLoss()).shape == (100,)
    assert accuracy(model, X, y, loss=BCEWithLogitsLoss()) > 0.95


def test_fit_is_reproducible_with_a_seed():
    X, y = _blobs()
    weights = []
    for _ in range(2):
        model = MLP([2, 8, 3], rng=1, dropout=0.2)
        fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), X, y, epochs=3,
            batch_size=10, rng=5, verbose=False)  # fmt: skip
        weights.append(model[0].weight.data.copy())
    np.testing.assert_array_equal(*weights)


class _FirstBatchRecorder(Module):
    """Identity layer that records the first training batch it sees in each epoch."""

    def __init__(self) -> None:
        self.batches: list[np.ndarray] = []
        self.new_epoch = True

    def forward(self, x: np.ndarray) -> np.ndarray:
        if self.training and self.new_epoch:
            self.batches.append(x.copy())
            self.new_epoch = False
        return x

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return grad_out


def test_an_int_seed_still_shuffles_differently_every_epoch():
    X, y = _regression(40)
    recorder = _FirstBatchRecorder()
    model = Sequential(recorder, Linear(3, 1, rng=0))

    def next_epoch(epoch: int, hist: History) -> None:
        recorder.new_epoch = True

    fit(model, MSELoss(), SGD(model.parameters(), lr=0.01), X, y, epochs=3, batch_size=8,
        rng=0, verbose=False, callback=next_epoch)  # fmt: skip
    first, second, third = recorder.batches
    assert not np.array_equal(first, second) and not np.array_equal(second, third)


def test_divergence_stops_with_a_clear_message():
    X, y = _regression()
    model = MLP([3, 16, 1], rng=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the clear message comes, not overflow warnings
        with pytest.raises(TrainingDiverged, match=r"epoch \d+ of 50.*learning rate") as info:
            fit(model, MSELoss(), SGD(model.parameters(), lr=10.0), X, y, epochs=50, rng=0,
                verbose=False)  # fmt: skip
    assert isinstance(info.value, FloatingPointError)
    assert "10" in str(info.value)  # the learning rate in use is named


def test_verbose_prints_about_ten_lines(capsys):
    X, y = _regression(16)
    model = Linear(3, 1, rng=0)
    fit(model, MSELoss(), SGD(model.parameters(), lr=0.01), X, y, epochs=100, batch_size=16,
        rng=0, verbose=True)  # fmt: skip
    lines = capsys.readouterr().out.strip().splitlines()
    assert 5 <= len(lines) <= 11
    assert lines[0].startswith("epoch   1/100") and lines[-1].startswith("epoch 100/100")
    assert "loss" in lines[-1]


def test_verbose_false_prints_nothing_and_int_sets_the_interval(capsys):
    X, y = _regression(16)
    model = Linear(3, 1, rng=0)
    opt = SGD(model.parameters(), lr=0.01)
    fit(model, MSELoss(), opt, X, y, epochs=30, rng=0, verbose=False)
    assert capsys.readouterr().out == ""
    fit(model, MSELoss(), opt, X, y, epochs=30, rng=0, verbose=5)
    lines = capsys.readouterr().out.strip().splitlines()
    assert [int(line.split()[1].split("/")[0]) for line in lines] == [1, 5, 10, 15, 20, 25, 30]


def test_early_stopping_restores_the_best_weights(capsys):
    # Validation labels contradict the training labels, so validation gets worse as training
    # improves: the best validation loss comes early and training must stop.
    X, y = make_blobs(80, centers=2, std=0.5, rng=0)
    model = MLP([2, 8, 2], rng=0)
    snapshots: list[list[np.ndarray]] = []

    def keep(epoch: int, hist: History) -> None:
        snapshots.append([p.data.copy() for p in model.parameters()])

    hist = fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.1), X, y, epochs=50,
               validation=(X, 1 - y), early_stopping=3, rng=0, callback=keep)  # fmt: skip
    assert hist.stopped_early and hist.epochs < 50
    best = int(np.argmin(hist.val_loss)) + 1
    assert hist.best_epoch == best and hist.epochs == best + 3
    for p, saved in zip(model.parameters(), snapshots[best - 1], strict=True):
        np.testing.assert_array_equal(p.data, saved)
    assert evaluate(model, CrossEntropyLoss(), X, 1 - y)[0] == pytest.approx(min(hist.val_loss))
    assert f"early stopping after epoch {best + 3}" in capsys.readouterr().out


def test_scheduler_changes_the_learning_rate():
    X, y = _regression(32)
    model = Linear(3, 1, rng=0)
    opt = SGD(model.parameters(), lr=0.1)
    hist = fit(model, MSELoss(), opt, X, y, epochs=6, rng=0, verbose=False,
               scheduler=StepLR(opt, step_size=2, gamma=0.5))  # fmt: skip
    np.testing.assert_allclose(hist.lr, [0.1, 0.1, 0.05, 0.05, 0.025, 0.025])
    assert opt.lr == pytest.approx(0.0125)


def test_fit_argument_errors():
    X, y = _regression(10)
    model = Linear(3, 1)
    opt = SGD(model.parameters(), lr=0.1)
    with pytest.raises(ValueError, match="same number of samples.*10 inputs.*9 targets"):
        fit(model, MSELoss(), opt, X, y[:9], epochs=1)
    with pytest.raises(ValueError, match="early_stopping needs a validation set"):
        fit(model, MSELoss(), opt, X, y, epochs=1, early_stopping=2)
    with pytest.raises(ValueError, match="epochs must be a positive int, got 0"):
        fit(model, MSELoss(), opt, X, y, epochs=0)
    with pytest.raises(ValueError, match=r"2-D batch.*\(10,\)"):
        fit(model, MSELoss(), opt, X[:, 0], y, epochs=1)


def test_predict_predict_proba_accuracy_and_confusion_matrix():
    model = Linear(2, 3, init="zeros")
    model.bias.data[:] = [0.0, 1.0, 0.5]
    X = np.zeros((5, 2))
    model.train()
    out = predict_proba(model, X, batch_size=2)
    assert out.shape == (5, 3) and model.training  # mode restored
    np.testing.assert_array_equal(predict(model, X), [1] * 5)
    assert accuracy(model, X, np.array([1, 1, 0, 1, 2])) == pytest.approx(0.6)
    assert accuracy(np.array([0, 1, 2]), np.array([[0], [1], [1]])) == pytest.approx(2 / 3)
    with pytest.raises(TypeError, match="needs the labels y"):
        accuracy(model, X)
    with pytest.raises(ValueError, match="differ in shape"):
        accuracy(np.array([0, 1]), np.array([0, 1, 1]))
    cm = confusion_matrix(np.array([0, 1, 2, 2]), np.array([0, 2, 2, 2]))
    np.testing.assert_array_equal(cm, [[1, 0, 0], [0, 0, 1], [0, 0, 2]])
    assert confusion_matrix(np.array([0]), np.array([0]), num_classes=4).shape == (4, 4)
    with pytest.raises(ValueError, match="label 3"):
        confusion_matrix(np.array([0, 3]), np.array([0, 1]), num_classes=3)


def test_mlp_reaches_97_percent_on_digits():
    X, y = load_digits()
    Xtr, Xte, ytr, yte = train_val_split(X / 16.0, y, 0.2, rng=0)
    model = MLP([64, 64, 10], rng=0)
    fit(model, CrossEntropyLoss(), Adam(model.parameters(), lr=0.003), Xtr, ytr, epochs=30,
        batch_size=32, rng=0, verbose=False)  # fmt: skip
    assert accuracy(model, Xte, yte) >= 0.97


def test_accuracy_is_reported_for_float_one_hot_targets_with_mse() -> None:
    import numpy as np

    from nnscratch.functional import one_hot
    from nnscratch.layers import MLP
    from nnscratch.losses import MSELoss
    from nnscratch.optim import SGD
    from nnscratch.training import fit

    rng = np.random.default_rng(0)
    X = rng.normal(size=(40, 3))
    y = (X[:, 0] > 0).astype(int)
    model = MLP([3, 8, 2], rng=0)
    hist = fit(
        model,
        MSELoss(),
        SGD(model.parameters(), lr=0.1),
        X,
        one_hot(y, 2),
        epochs=3,
        batch_size=8,
        rng=0,
        verbose=False,
    )
    assert all(0 <= a <= 1 for a in hist.acc)
    # real-valued regression targets still give NaN accuracy
    hist = fit(
        model,
        MSELoss(),
        SGD(model.parameters(), lr=0.01),
        X,
        X[:, :2] * 0.5,
        epochs=1,
        batch_size=8,
        rng=0,
        verbose=False,
    )
    assert np.isnan(hist.acc[0])


def test_accuracy_rule_is_decided_on_all_targets_not_the_first_batch() -> None:
    # The first 8 rows are one-hot, the rest real-valued: without shuffling the first batch
    # looks like classification, but the targets as a whole are regression, so every epoch's
    # accuracy is NaN; with one-hot rows throughout it is the fraction correct.
    from nnscratch.functional import one_hot
    from nnscratch.layers import MLP
    from nnscratch.optim import SGD
    from nnscratch.training import _train_epoch, accuracy

    rng = np.random.default_rng(0)
    X = rng.normal(size=(24, 3))
    labels = (X[:, 0] > 0).astype(int)
    mixed = np.vstack([one_hot(labels[:8], 2), rng.normal(size=(16, 2))])
    model = MLP([3, 4, 2], rng=0)
    batches = [(X[i : i + 8], mixed[i : i + 8]) for i in range(0, 24, 8)]
    opt = SGD(model.parameters(), lr=0.0)  # lr 0: the model stays as it is
    _, acc = _train_epoch(model, MSELoss(), opt, batches, (1, 1), mixed)
    assert np.isnan(acc)
    targets = one_hot(labels, 2)
    batches = [(X[i : i + 8], targets[i : i + 8]) for i in range(0, 24, 8)]
    _, acc = _train_epoch(model, MSELoss(), opt, batches, (1, 1), targets)
    assert acc == accuracy(model, X, labels)


def test_report_progress_prints_first_last_and_every_kth_epoch(capsys) -> None:
    from nnscratch.training import History, progress_every, report_progress

    assert progress_every(True, 100) == 10
    assert progress_every(3, 100) == 3
    assert progress_every(False, 100) == 0
    hist = History(loss=[0.5], acc=[float("nan")], val_loss=[0.25], val_acc=[0.75])
    for epoch in range(1, 8):
        report_progress(hist, epoch, 7, 3)
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["1/7", "3/7", "6/7", "7/7"]
    assert "acc" not in lines[0].replace("val_acc", "")
    assert "val_loss 0.2500  val_acc 0.750" in lines[0]
    report_progress(hist, 1, 7, 0)
    assert capsys.readouterr().out == ""


# --- tied weights, a module used twice, every output kind ---------------------------------


def test_fit_gives_tied_weights_the_sum_of_their_gradients_like_torch() -> None:
    # Two layers share one weight and bias: the gradient is the sum over both uses, in fit
    # as in torch (where the same nn.Linear sits twice in the chain).
    torch = pytest.importorskip("torch")
    from nnscratch.layers import ReLU

    gen = np.random.default_rng(0)
    X, y = gen.normal(size=(16, 3)), gen.integers(0, 3, 16)
    first, second = Linear(3, 3, rng=1), Linear(3, 3, rng=2)
    second.weight, second.bias = first.weight, first.bias
    model = Sequential(first, ReLU(), second)
    W0, b0 = first.weight.data.copy(), first.bias.data.copy()
    fit(model, CrossEntropyLoss(), SGD(model.parameters(), lr=0.5), X, y, epochs=1,
        batch_size=16, rng=0, verbose=False)  # fmt: skip

    tlin = torch.nn.Linear(3, 3).double()
    with torch.no_grad():
        tlin.weight.copy_(torch.from_numpy(W0))
        tlin.bias.copy_(torch.from_numpy(b0))
    twin = torch.nn.Sequential(tlin, torch.nn.ReLU(), tlin)
    opt = torch.optim.SGD(twin.parameters(), lr=0.5)
    opt.zero_grad()
    torch.nn.CrossEntropyLoss()(twin(torch.from_numpy(X)), torch.from_numpy(y)).backward()
    opt.step()
    np.testing.assert_allclose(first.weight.data, tlin.weight.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(first.bias.data, tlin.bias.detach().numpy(), rtol=1e-10)


def test_one_module_object_twice_in_a_sequential_is_a_clear_error() -> None:
    # Its cached input would be overwritten by the second use: wrong gradients, silently.
    from nnscratch.layers import ReLU

    lin, relu = Linear(3, 3, rng=1), ReLU()
    with pytest.raises(ValueError, match=r"Linear.*appears twice.*items 0 and 2.*\.weight"):
        Sequential(lin, ReLU(), lin)
    with pytest.raises(ValueError, match=r"ReLU.*appears twice.*items 1 and 2"):
        Sequential(Linear(3, 3), relu, Sequential(Linear(3, 3), relu))


def _moons_kind(kind: str):
    from nnscratch.data import make_moons
    from nnscratch.functional import one_hot
    from nnscratch.layers import ReLU, Sigmoid
    from nnscratch.losses import BCELoss

    X, y = make_moons(200, noise=0.1, rng=0)
    hidden = [Linear(2, 16, rng=0), ReLU()]
    if kind == "probability":
        return Sequential(*hidden, Linear(16, 1, rng=1), Sigmoid()), BCELoss(), X, y
    if kind == "logit":
        return Sequential(*hidden, Linear(16, 1, rng=1)), BCEWithLogitsLoss(), X, y
    if kind == "multiclass":
        return Sequential(*hidden, Linear(16, 2, rng=1)), CrossEntropyLoss(), X, y
    if kind == "one_hot_mse":
        return Sequential(*hidden, Linear(16, 2, rng=1)), MSELoss(), X, one_hot(y, 2)
    assert kind == "one_hot_ce"
    return Sequential(*hidden, Linear(16, 2, rng=1)), CrossEntropyLoss(), X, one_hot(y, 2)


@pytest.mark.parametrize(
    "kind", ["probability", "logit", "multiclass", "one_hot_mse", "one_hot_ce"]
)
def test_predict_accuracy_and_history_agree_for_every_output_kind(kind: str) -> None:
    model, loss, X, y = _moons_kind(kind)
    opt = Adam(model.parameters(), lr=0.02)
    hist = fit(model, loss, opt, X, y, epochs=40, batch_size=32, validation=(X, y), rng=0,
               verbose=False)  # fmt: skip
    acc = accuracy(model, X, y, loss=loss)
    assert acc > 0.9  # it really learned: the agreement below is not 0.5 == 0.5
    assert hist.val_acc[-1] == acc == evaluate(model, loss, X, y)[1]
    labels = np.argmax(y, axis=1) if y.ndim == 2 else y
    assert np.mean(predict(model, X, loss=loss) == labels) == acc


def test_one_output_column_without_a_loss_is_a_clear_error() -> None:
    model, loss, X, y = _moons_kind("probability")
    with pytest.raises(ValueError, match=r"one output column.*BCELoss.*0\.5.*BCEWithLogitsLoss"):
        accuracy(model, X, y)
    with pytest.raises(ValueError, match=r"one output column.*MSELoss"):
        predict(model, X, loss=MSELoss())
    assert set(np.unique(predict(model, X, loss=loss))) <= {0, 1}
