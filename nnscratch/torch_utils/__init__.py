"""Bridges from nnscratch to PyTorch, for notebooks 09 and 10.

One module per concept:

- ``device``      ``get_device`` picks CUDA, Apple MPS or the CPU (or the one you ask for);
  ``amp_dtype`` the mixed-precision type for it;
- ``conversion``  ``to_torch`` / ``from_torch`` convert an nnscratch ``Sequential``/``MLP`` into
  an equivalent ``torch.nn.Sequential`` with the same weights, and back; ``count_parameters``;
- ``loop``        ``train``, ``evaluate`` and ``accuracy`` are a device-agnostic training loop
  that returns the same ``History`` as ``nnscratch.fit`` (and, given the same seed, visits the
  same mini-batches);
- ``checkpoints`` ``save_checkpoint`` / ``load_checkpoint``;
- ``models``      ``small_cnn`` (a CNN for 8x8 digits);
- ``augment``     ``shifted_copies`` (data augmentation);
- ``timing``      ``time_training`` (CPU vs accelerator timings).

torch is imported inside each function, so ``import nnscratch`` stays NumPy-only.
"""

from .augment import shifted_copies
from .checkpoints import load_checkpoint, save_checkpoint
from .conversion import count_parameters, from_torch, to_torch
from .device import DEVICE_ENV, amp_dtype, get_device
from .loop import accuracy, evaluate, predict_logits, to_tensor, train
from .models import small_cnn
from .timing import TrainingTiming, time_training

__all__ = [
    "DEVICE_ENV",
    "get_device",
    "to_torch",
    "from_torch",
    "to_tensor",
    "train",
    "evaluate",
    "accuracy",
    "predict_logits",
    "save_checkpoint",
    "load_checkpoint",
    "small_cnn",
    "shifted_copies",
    "amp_dtype",
    "TrainingTiming",
    "time_training",
    "count_parameters",
]
