"""The state of a training after some steps, as bytes and as a checkpoint file.

A :class:`Snapshot` holds the step count, the loss history and the value of
every variable of the training graph (the model's and the optimizer's, e.g.
Adam's moments or L-BFGS's memory), plus a little JSON metadata. Steps are
deterministic given these, so resuming from a snapshot continues exactly as
the uninterrupted run would have. Bytes are an ``.npz`` archive read with
``allow_pickle=False``: loading one never runs code.

>>> snap = Snapshot(2, np.array([1.0, 0.5]), {"w": np.zeros(3)}, {"seed": 0})
>>> Snapshot.from_bytes(snap.to_bytes()).step
2
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from engine import atomic
from tensorframes.errors import CheckpointError

CHECKPOINT_FILE = "checkpoint.npz"
_STATE = "state/"


@dataclass
class Snapshot:
    """``step`` steps done, their ``losses``, every training variable's value in ``state``."""

    step: int
    losses: np.ndarray
    state: dict[str, np.ndarray]
    meta: dict = field(default_factory=dict)

    def to_bytes(self) -> bytes:
        arrays = {_STATE + name: value for name, value in self.state.items()}
        arrays["step"] = np.int64(self.step)
        arrays["losses"] = np.asarray(self.losses, dtype=np.float64)
        arrays["meta"] = np.frombuffer(json.dumps(self.meta).encode(), dtype=np.uint8)
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> "Snapshot":
        with np.load(io.BytesIO(data), allow_pickle=False) as archive:
            state = {k[len(_STATE):]: archive[k] for k in archive.files if k.startswith(_STATE)}
            meta = json.loads(archive["meta"].tobytes().decode())
            return cls(int(archive["step"]), archive["losses"], state, meta)


def save_checkpoint(directory: str | os.PathLike, snapshot: Snapshot) -> Path:
    """Write ``snapshot`` to ``directory/checkpoint.npz`` atomically (a crash leaves the old one)."""
    path = Path(directory) / CHECKPOINT_FILE
    atomic.write_file(path, snapshot.to_bytes())
    return path


def load_checkpoint(directory: str | os.PathLike) -> Snapshot | None:
    """The snapshot in ``directory/checkpoint.npz``, or None when there is none."""
    path = Path(directory) / CHECKPOINT_FILE
    if not path.exists():
        return None
    try:
        return Snapshot.from_bytes(path.read_bytes())
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as e:
        raise CheckpointError(f"cannot read the checkpoint {path}: {e}; delete it to start over") from None
