"""Convolution and pooling over batches of images (notebook 11).

``Conv2d``, ``MaxPool2d`` and ``Unflatten`` follow the contract of the layers of notebook 05
(``forward`` caches, ``backward`` returns dL/d(input) and adds parameter gradients) with
torch's names, arguments and ``(N, C, H, W)`` layout.

Each layer keeps two versions side by side, as nanoGPT keeps its fast attention beside the
manual one: a reference that reads like the notebook (a tensordot over a sliding-window view;
max-pooling by an argmax over each window) and a fast path (``fast = True``, the default)
built from the notebook's own speed ideas: an im2col matrix laid out so that the product is
one contiguous matrix product per image, col2im as ``kH * kW`` strided additions, and
non-overlapping pooling as a reshape. The fast path also reuses, from call to call, the
arrays it never hands out (the padded input, the columns and their gradient), as a
hand-written training loop keeps its buffers. Both give the same numbers (the tests hold both
to torch in float64), in the dtype of the input and weights: float32 stays float32.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from ._rng import as_generator
from ._validate import as_array, as_batch, as_int
from .init import float_dtype, init_bias, init_weight
from .layers import Module, Parameter

__all__ = ["Conv2d", "MaxPool2d", "Unflatten"]


def _pair(value: object, name: str, *, minimum: int) -> tuple[int, int]:
    """``3 -> (3, 3)``, ``(2, 3) -> (2, 3)``; each an int >= ``minimum`` (torch's convention)."""
    if not isinstance(value, (tuple, list)):
        size = as_int(value, name, minimum)
        return size, size
    if len(value) != 2:
        raise ValueError(f"{name} must be an int or a pair (h, w) of ints, got {value!r}")
    return as_int(value[0], f"{name}[0]", minimum), as_int(value[1], f"{name}[1]", minimum)


def _output_size(
    size: Sequence[int], kernel: tuple[int, int], stride: tuple[int, int]
) -> tuple[int, int]:
    """``(Ho, Wo)`` of a ``kernel`` sliding with ``stride`` over a (padded) ``size (H, W)``.

    ``size`` is a sequence because it is usually the last two entries of an array's shape.
    """
    h, w = size
    return (h - kernel[0]) // stride[0] + 1, (w - kernel[1]) // stride[1] + 1


def _offset(i: int, j: int, out_size: tuple[int, int], stride: tuple[int, int]) -> tuple:
    """The strided slice of a padded image read by kernel offset ``(i, j)``: ``(Ho, Wo)`` pixels.

    Pixel ``(a, b)`` of that slice is ``xp[i + a*sh, j + b*sw]``, the entry that the output
    ``(a, b)`` multiplies by ``weight[..., i, j]``.
    """
    (ho, wo), (sh, sw) = out_size, stride
    return (..., slice(i, i + sh * (ho - 1) + 1, sh), slice(j, j + sw * (wo - 1) + 1, sw))


def _windows(xp: np.ndarray, kernel: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """Every ``kH x kW`` patch of ``xp (N, C, H, W)``, as a view ``(N, C, Ho, Wo, kH, kW)``."""
    view = np.lib.stride_tricks.sliding_window_view(xp, kernel, axis=(2, 3))
    return view[:, :, :: stride[0], :: stride[1]]


def _workspace(
    buf: np.ndarray | None, shape: tuple[int, ...], dtype: np.dtype, fill: float | None = None
) -> np.ndarray:
    """``buf`` again if it has ``shape`` and ``dtype``, else a new array (filled with ``fill``
    if given, else uninitialised).

    For the arrays a layer keeps to itself and never hands out (its padded input, its im2col
    columns and their gradient): a new large array on every call costs page faults, the
    kernel zeroing each fresh page, work that a hand-written loop with its buffers
    allocated once never does.
    """
    if buf is not None and buf.shape == shape and buf.dtype == dtype:
        return buf
    return np.empty(shape, dtype) if fill is None else np.full(shape, fill, dtype)


def _im2col(
    xp: np.ndarray,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    buf: np.ndarray | None = None,
) -> np.ndarray:
    """The patches of ``xp (N, C, Hp, Wp)`` as one contiguous array ``(N, C*kH*kW, Ho*Wo)``.

    Row ``(c, i, j)`` of image ``n`` is the strided slice that kernel entry ``(c, i, j)`` reads,
    so ``weight.reshape(O, -1) @ cols[n]`` is image ``n``'s output ``(O, Ho*Wo)``, already in
    the ``(N, O, Ho, Wo)`` layout: one matrix product per image and no transpose after it.
    Filling it takes ``kH * kW`` strided copies, whatever the number of windows. ``buf`` (the
    columns of an earlier call) is filled again if its shape and dtype fit.
    """
    n, c = xp.shape[:2]
    (kh, kw), out_size = kernel, _output_size(xp.shape[2:], kernel, stride)
    cols = _workspace(buf, (n, c * kh * kw, out_size[0] * out_size[1]), xp.dtype)
    patches = cols.reshape(n, c, kh, kw, *out_size)
    for i in range(kh):
        for j in range(kw):
            patches[:, :, i, j] = xp[_offset(i, j, out_size, stride)]
    return cols


def _col2im(
    cols: np.ndarray, shape: tuple[int, ...], kernel: tuple[int, int], stride: tuple[int, int]
) -> np.ndarray:
    """The adjoint of ``_im2col``: add each row of ``cols (N, C*kH*kW, Ho*Wo)`` back where it
    was read from, into zeros of the padded input's ``shape``: ``kH * kW`` strided additions."""
    n, c = shape[:2]
    (kh, kw), out_size = kernel, _output_size(shape[2:], kernel, stride)
    patches = cols.reshape(n, c, kh, kw, *out_size)
    out = np.zeros(shape, dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            out[_offset(i, j, out_size, stride)] += patches[:, :, i, j]
    return out


def _scatter_windows(
    patches: np.ndarray, shape: tuple[int, ...], stride: tuple[int, int]
) -> np.ndarray:
    """The adjoint of ``_windows``: add every patch ``(N, C, Ho, Wo, kH, kW)`` back in place.

    Returns an array of ``shape`` (the padded input's) where each pixel holds the sum of the
    patch entries that were read from it: one strided slice per kernel offset.
    """
    out = np.zeros(shape, dtype=patches.dtype)
    ho, wo, kh, kw = patches.shape[2:]
    for i in range(kh):
        for j in range(kw):
            out[_offset(i, j, (ho, wo), stride)] += patches[..., i, j]
    return out


def _pad(
    x: np.ndarray, padding: tuple[int, int], value: float, buf: np.ndarray | None = None
) -> np.ndarray:
    """``x (N, C, H, W)`` with ``padding`` rows and columns of ``value`` on each side.

    What ``np.pad`` does, without its general machinery, which costs more than the copy on
    the small images of notebook 11. ``buf``, a padded array of an earlier call with the
    same shape, dtype and border ``value``, is reused: only its inside is written.
    """
    (ph, pw), (n, c, h, w) = padding, x.shape
    if not (ph or pw):
        return x
    out = _workspace(buf, (n, c, h + 2 * ph, w + 2 * pw), x.dtype, fill=value)
    out[:, :, ph : ph + h, pw : pw + w] = x
    return out


def _unpad(x: np.ndarray, padding: tuple[int, int]) -> np.ndarray:
    """``x (N, C, Hp, Wp)`` without ``padding`` rows and columns on each side."""
    (ph, pw), (hp, wp) = padding, x.shape[2:]
    return x[:, :, ph : hp - ph, pw : wp - pw]


class Conv2d(Module):
    """2-D convolution (cross-correlation, as in torch) over a batch of images.

    ``out[n, o, i, j] = bias[o] + sum_{c,u,v} weight[o, c, u, v] * xp[n, c, i*sh + u, j*sw + v]``
    where ``xp`` is the input with ``padding`` zeros on each side.
    Shapes: input ``(N, in_channels, H, W)``, output ``(N, out_channels, Ho, Wo)`` with
    ``Ho = (H + 2*ph - kH) // sh + 1`` (and the same for ``Wo``); ``weight`` is
    ``(out_channels, in_channels, kH, kW)`` and ``bias`` ``(out_channels,)`` as in torch.
    ``kernel_size``, ``stride`` and ``padding`` are an int or an ``(h, w)`` pair.
    ``init`` is as for ``Linear`` (``nnscratch.init``), with fan-in ``in_channels * kH * kW``.
    ``fast`` picks the contiguous im2col path (default) or the tensordot reference.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] = 1,
        padding: int | tuple[int, int] = 0,
        *,
        bias: bool = True,
        init: str | float = "he",
        rng: np.random.Generator | int | None = None,
        dtype: type | np.dtype = np.float64,
        fast: bool = True,
    ) -> None:
        self.in_channels = as_int(in_channels, "in_channels")
        self.out_channels = as_int(out_channels, "out_channels")
        self.kernel_size = _pair(kernel_size, "kernel_size", minimum=1)
        self.stride = _pair(stride, "stride", minimum=1)
        self.padding = _pair(padding, "padding", minimum=0)
        self.dtype = float_dtype(dtype)
        self.fast = bool(fast)
        gen = as_generator(rng)
        shape = (self.out_channels, self.in_channels, *self.kernel_size)
        self.weight = Parameter(init_weight(init, shape, gen).astype(self.dtype))
        self.bias: Parameter | None = None
        if bias:
            fan_in = self.in_channels * self.kernel_size[0] * self.kernel_size[1]
            b = init_bias(init, self.out_channels, fan_in, gen)
            self.bias = Parameter(b.astype(self.dtype))
        self._cache: tuple[bool, np.ndarray, tuple[int, ...]] | None = None
        # Arrays that only this layer sees, reused from call to call (see _workspace).
        self._xp: np.ndarray | None = None
        self._d_cols: np.ndarray | None = None

    def _check_parameters(self) -> None:
        # A weight assigned by hand with the wrong shape would otherwise fail deep inside
        # NumPy ("shape-mismatch for sum") or, with more output channels, not at all.
        weight_shape = (self.out_channels, self.in_channels, *self.kernel_size)
        want: list[tuple[str, tuple[int, ...], str]] = [
            ("weight", weight_shape, "(out, in, kH, kW)")
        ]
        if self.bias is not None:
            want.append(("bias", (self.out_channels,), "(out_channels,)"))
        for name, shape, layout in want:
            got = getattr(self, name).data.shape
            if got != shape:
                raise ValueError(f"{self!r}: {name} must have shape {shape} {layout}, got {got}")

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``(N, in_channels, H, W) -> (N, out_channels, Ho, Wo)``."""
        self._check_parameters()
        x = as_batch(x, "input", self.in_channels, owner=self, images=True)
        kh, kw = self.kernel_size
        if self.fast:
            # The padded input and the columns are arrays of the previous call, filled again.
            self._xp = xp = _pad(x, self.padding, 0.0, self._xp)
        else:
            xp = _pad(x, self.padding, 0.0)
        if xp.shape[2] < kh or xp.shape[3] < kw:
            raise ValueError(
                f"input to {self!r} is {x.shape[2]}x{x.shape[3]} pixels, padded "
                f"{xp.shape[2]}x{xp.shape[3]}: smaller than the {kh}x{kw} kernel"
            )
        n, (ho, wo) = x.shape[0], _output_size(xp.shape[2:], self.kernel_size, self.stride)
        if self.fast:
            # im2col in the layout (N, C*kH*kW, Ho*Wo): weight (O, C*kH*kW) times each image's
            # columns is one contiguous matrix product that lands in (N, O, Ho*Wo) directly.
            old = self._cache[1] if self._cache is not None and self._cache[0] else None
            cols = _im2col(xp, self.kernel_size, self.stride, old)
            out = self.weight.data.reshape(self.out_channels, -1) @ cols
            if self.bias is not None:
                out += self.bias.data[:, None]
            out = out.reshape(n, self.out_channels, ho, wo)
        else:
            # Reference: the windows as a view (N, C, Ho, Wo, kH, kW) and one tensordot with
            # the weight over (C, kH, kW); tensordot copies the windows into a matrix itself.
            cols = _windows(xp, self.kernel_size, self.stride)
            out = np.tensordot(cols, self.weight.data, axes=([1, 4, 5], [1, 2, 3]))  # N,Ho,Wo,O
            if self.bias is not None:
                out += self.bias.data
            out = np.ascontiguousarray(out.transpose(0, 3, 1, 2))
        self._cache = (self.fast, cols, xp.shape)
        return out

    def _grads(self, grad_out: object) -> tuple[np.ndarray, bool, tuple[int, ...]]:
        """Check ``grad_out``, add dW and db to the gradients.

        Returns ``grad_out`` as an array ``(N, out_channels, Ho, Wo)``, whether the forward
        pass took the fast path, and the shape of its padded input, which dL/dx needs.
        """
        if self._cache is None:
            raise RuntimeError("call forward before backward")
        self._check_parameters()
        fast, cols, padded_shape = self._cache
        n, (ho, wo) = padded_shape[0], _output_size(padded_shape[2:], self.kernel_size, self.stride)
        g = as_array(grad_out, "grad_out")
        want = (n, self.out_channels, ho, wo)
        if g.shape != want:
            raise ValueError(f"grad_out must have the output's shape {want}, got {g.shape}")
        if fast:
            # dW = sum over images of G_n (O, Ho*Wo) @ cols_n.T: one product per image.
            g_flat = g.reshape(n, self.out_channels, ho * wo)
            d_w = (g_flat @ cols.transpose(0, 2, 1)).sum(axis=0)
            self.weight.accumulate(d_w.reshape(self.weight.shape))  # grad += d_w, no zeros
        else:
            self.weight.accumulate(np.tensordot(g, cols, axes=([0, 2, 3], [0, 2, 3])))
        if self.bias is not None:
            # Over the batch first: adding whole images is one fast contiguous pass, where a
            # sum over the axes (0, 2, 3) at once walks the array in short strided pieces.
            self.bias.accumulate(g.sum(axis=0).sum(axis=(1, 2)))
        return g, fast, padded_shape

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """``grad_out (N, out_channels, Ho, Wo) -> grad_in (N, in_channels, H, W)``.

        Adds dW (the cross-correlation of the input with ``grad_out``) and db (``grad_out``
        summed over batch and positions) into the grads; dL/dx spreads each output's
        gradient back over the patch it read, weighted by the kernel (a full convolution).
        """
        g, fast, padded_shape = self._grads(grad_out)
        if fast:
            # The columns' gradient W.T @ G_n (into the previous call's array), then col2im:
            # kH*kW strided additions.
            w_flat = self.weight.data.reshape(self.out_channels, -1)
            g_flat = g.reshape(g.shape[0], self.out_channels, -1)
            shape = (g.shape[0], w_flat.shape[1], g_flat.shape[2])
            self._d_cols = _workspace(self._d_cols, shape, np.result_type(w_flat, g_flat))
            d_cols = np.matmul(w_flat.T, g_flat, out=self._d_cols)
            gxp = _col2im(d_cols, padded_shape, self.kernel_size, self.stride)
        else:
            patches = np.tensordot(g, self.weight.data, axes=([1], [0]))  # (N,Ho,Wo,C,kH,kW)
            gxp = _scatter_windows(patches.transpose(0, 3, 1, 2, 4, 5), padded_shape, self.stride)
        return _unpad(gxp, self.padding)

    def backward_params(self, grad_out: np.ndarray) -> None:
        """Add dW and db only: a first layer, whose input is the data, skips dL/dx (col2im)."""
        self._grads(grad_out)

    def __repr__(self) -> str:
        extra = "" if self.stride == (1, 1) else f", stride={self.stride}"
        extra += "" if self.padding == (0, 0) else f", padding={self.padding}"
        return (
            f"Conv2d({self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}"
            f"{extra}, bias={self.bias is not None})"
        )


class MaxPool2d(Module):
    """Max-pooling like ``torch.nn.MaxPool2d``: the largest value of each window, per channel.

    Shapes: input ``(N, C, H, W)``, output ``(N, C, Ho, Wo)`` with
    ``Ho = (H + 2*ph - kH) // sh + 1``. ``stride`` defaults to ``kernel_size``; ``padding``
    (at most half the kernel, as in torch) pads with -inf. Backward sends each output's
    gradient to the input that was the maximum (the first one on a tie, in row-major order,
    as torch's CPU kernel does); no parameters. ``fast`` lets windows that do not overlap
    (stride = kernel, no padding) be pooled as a reshape.
    """

    def __init__(
        self,
        kernel_size: int | tuple[int, int],
        stride: int | tuple[int, int] | None = None,
        padding: int | tuple[int, int] = 0,
        *,
        fast: bool = True,
    ) -> None:
        self.kernel_size = _pair(kernel_size, "kernel_size", minimum=1)
        self.stride = self.kernel_size if stride is None else _pair(stride, "stride", minimum=1)
        self.padding = _pair(padding, "padding", minimum=0)
        if any(p > k // 2 for p, k in zip(self.padding, self.kernel_size, strict=True)):
            raise ValueError(
                f"padding must be at most half the kernel size {self.kernel_size}, "
                f"got {self.padding}"
            )
        self.fast = bool(fast)
        self._cache: tuple[str, np.ndarray, np.ndarray, tuple[int, ...]] | None = None
        #: the tiles path's windows, one contiguous (N, C, Ho, Wo) array per offset, reused
        #: from call to call (see _workspace)
        self._corners: np.ndarray | None = None

    def forward(self, x: np.ndarray) -> np.ndarray:
        """``(N, C, H, W) -> (N, C, Ho, Wo)``."""
        x = as_batch(x, "input", owner=self, images=True)
        (ph, pw), (kh, kw) = self.padding, self.kernel_size
        if ph or pw:
            x = _pad(x, self.padding, -np.inf)
        if x.shape[2] < kh or x.shape[3] < kw:
            raise ValueError(
                f"input to {self!r} is {x.shape[2] - 2 * ph}x{x.shape[3] - 2 * pw} pixels: "
                f"smaller than the {kh}x{kw} window"
            )
        ho, wo = _output_size(x.shape[2:], self.kernel_size, self.stride)
        if self.fast and self.stride == self.kernel_size and not (ph or pw):
            # Windows that tile the image: (N, C, Ho*kH, Wo*kW) is (N, C, Ho, kH, Wo, kW)
            # in memory already, a reshape with no copy. The maximum is taken as kH*kW
            # elementwise maxima of (N, C, Ho, Wo) slices, which NumPy runs far faster than
            # one max over the two small window axes.
            tiles = x[:, :, : ho * kh, : wo * kw].reshape(*x.shape[:2], ho, kh, wo, kw)
            # Window offset (i, j) of every window, as one contiguous (N, C, Ho, Wo) array
            # each (row-major order): one strided copy per offset, after which the maxima
            # here and the comparisons of backward run over contiguous memory, which NumPy
            # walks faster than slices made of short strided rows.
            shape = (kh * kw, *x.shape[:2], ho, wo)
            self._corners = corners = _workspace(self._corners, shape, x.dtype)
            for k, (i, j) in enumerate(np.ndindex(kh, kw)):
                corners[k] = tiles[:, :, :, i, :, j]
            out = np.maximum(corners[0], corners[1]) if len(corners) > 1 else corners[0].copy()
            for corner in corners[2:]:
                np.maximum(out, corner, out=out)  # NaN propagates, as in torch
            self._cache = ("tiles", x, out, x.shape)
            return out
        idx, out = self._argmax(x)
        self._cache = ("argmax", idx, out, x.shape)
        return out

    def _argmax(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The reference: each window's maximum ``(N, C, Ho, Wo)`` of the padded ``x`` and the
        index in ``[0, kH*kW)`` of the entry that gets its gradient, by torch's rules."""
        win = _windows(x, self.kernel_size, self.stride)
        flat = win.reshape(*win.shape[:4], -1)  # (N, C, Ho, Wo, kH*kW), a copy
        idx = np.argmax(flat, axis=-1)  # the first maximum of each window
        out = np.take_along_axis(flat, idx[..., None], axis=-1)[..., 0]
        return self._torch_choice(flat, idx, out), out

    def _torch_choice(self, flat: np.ndarray, idx: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Where torch's choice of maximum differs from the first maximum ``idx``, take torch's.

        ``flat (N, C, Ho, Wo, kH*kW)`` holds the windows of the padded input, ``out`` their
        maxima. Two cases, both rare: torch scans only real pixels, so a window whose real
        pixels are all -inf sends its gradient to its first real pixel, never to the padding
        (where it would be lost); and a NaN wins over every number, the last NaN of the
        window over earlier ones (torch's CPU kernel keeps replacing on NaN).
        """
        (ph, pw), (sh, sw), kw = self.padding, self.stride, self.kernel_size[1]
        if (ph or pw) and np.any(out == -np.inf):
            ho, wo = out.shape[2:]
            first_row = np.maximum(ph - sh * np.arange(ho), 0)  # window offset of the first
            first_col = np.maximum(pw - sw * np.arange(wo), 0)  # real row and column
            first_real = first_row[:, None] * kw + first_col[None, :]  # (Ho, Wo)
            idx = np.where(out == -np.inf, first_real, idx)
        nan = np.isnan(out)
        if nan.any():
            last_nan = flat.shape[-1] - 1 - np.argmax(np.isnan(flat[..., ::-1]), axis=-1)
            idx = np.where(nan, last_nan, idx)
        return idx

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        """``grad_out (N, C, Ho, Wo) -> grad_in (N, C, H, W)``: each gradient to its argmax."""
        if self._cache is None:
            raise RuntimeError("call forward before backward")
        how, saved, out, padded_shape = self._cache
        grad_out = as_array(grad_out, "grad_out")
        if grad_out.shape != out.shape:
            raise ValueError(
                f"grad_out must have the output's shape {out.shape}, got {grad_out.shape}"
            )
        kh, kw = self.kernel_size
        if how == "tiles":
            # Visit the kH*kW offsets in row-major order; each output's gradient goes to the
            # first offset that holds its maximum (torch's tie rule), then that window is done.
            # Every pixel of the tiles is written below; only rows and columns that no
            # window covers need zeros.
            x, covered = (
                saved,
                out.shape[2] * kh == padded_shape[2] and out.shape[3] * kw == padded_shape[3],
            )
            gxp = (np.empty if covered else np.zeros)(padded_shape, grad_out.dtype)
            # waiting: the windows whose gradient has found no place yet
            waiting, hit = np.ones(out.shape, dtype=bool), np.empty(out.shape, dtype=bool)
            corners = self._corners
            assert corners is not None  # the forward pass that cached "tiles" filled them
            for corner, (i, j) in zip(corners, np.ndindex(kh, kw), strict=True):
                np.equal(corner, out, out=hit)
                hit &= waiting  # the first maximum of a window only
                waiting ^= hit
                np.multiply(grad_out, hit, out=gxp[_offset(i, j, out.shape[2:], self.stride)])
            if not waiting.any():
                return gxp
            # A window holding NaN matched nowhere (NaN != NaN): torch sends its gradient to
            # its last NaN, which the reference finds.
            saved = self._argmax(x)[0]
        # Reference: a one-hot of each window's argmax, scattered back over the windows.
        one_hot = np.zeros((*saved.shape, kh * kw), grad_out.dtype)
        np.put_along_axis(one_hot, saved[..., None], grad_out[..., None], axis=-1)
        patches = one_hot.reshape(*saved.shape, kh, kw)
        gxp = _scatter_windows(patches, padded_shape, self.stride)
        return _unpad(gxp, self.padding)

    def __repr__(self) -> str:
        extra = "" if self.padding == (0, 0) else f", padding={self.padding}"
        return f"MaxPool2d(kernel_size={self.kernel_size}, stride={self.stride}{extra})"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size``, like ``torch.nn.Unflatten``.

    ``Unflatten(1, (1, 8, 8))`` turns a batch of 64-pixel rows ``(n, 64)`` into images
    ``(n, 1, 8, 8)``, so a CNN can be trained by ``fit`` on ``(n, features)`` data.
    """

    def __init__(self, dim: int, unflattened_size: Sequence[int]) -> None:
        self.dim = as_int(dim, "dim (axis 0 is the batch)")
        self.unflattened_size = tuple(
            as_int(s, f"unflattened_size[{i}]") for i, s in enumerate(unflattened_size)
        )

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = as_array(x)
        size = math.prod(self.unflattened_size)
        if x.ndim <= self.dim or x.shape[self.dim] != size:
            raise ValueError(
                f"{self!r} needs an input whose axis {self.dim} has {size} entries, got shape "
                f"{x.shape}"
            )
        self._shape = x.shape
        return x.reshape(*x.shape[: self.dim], *self.unflattened_size, *x.shape[self.dim + 1 :])

    def backward(self, grad_out: np.ndarray) -> np.ndarray:
        return np.asarray(grad_out).reshape(self._shape)

    def __repr__(self) -> str:
        return f"Unflatten(dim={self.dim}, unflattened_size={self.unflattened_size})"
