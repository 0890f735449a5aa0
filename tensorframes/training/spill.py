"""A partition larger than the memory a task may use: written once to a local Arrow IPC file, memory-mapped."""

from __future__ import annotations

#: Fed columns of a partition above this many bytes are spilled (tfs.train(spill_bytes=...)).
SPILL_BYTES = 1 << 30
