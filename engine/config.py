"""`ConfigProto`, `GPUOptions`, `RunOptions`, `RunMetadata`: accepted and ignored.

TF 1.x programs pass session and run options (`allow_soft_placement`,
`gpu_options=GPUOptions(allow_growth=True)`, `log_device_placement`,
thread counts) that mean nothing to a numpy engine on the CPU. They are
kept as plain attribute bags so such programs run unchanged; what was
ignored is logged at DEBUG level on the `engine` logger.

>>> config = ConfigProto(gpu_options=GPUOptions(allow_growth=True))
>>> config.gpu_options.allow_growth
True
"""
from __future__ import annotations

import logging
from typing import Any

log = logging.getLogger("engine")


class _Options:
    """An attribute bag: keyword arguments become attributes; unknown attributes read as None."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return None

    def CopyFrom(self, other: "_Options") -> None:  # noqa: N802  (protobuf's name)
        self.__dict__.update(other.__dict__)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(f'{k}={v!r}' for k, v in self.__dict__.items())})"


class GPUOptions(_Options):
    """GPU options (ignored: there is no GPU)."""


class OptimizerOptions(_Options):
    """Graph optimizer options (ignored)."""


class GraphOptions(_Options):
    """Graph optimizer options (ignored)."""

    def __init__(self, **fields: Any) -> None:
        super().__init__(**{"optimizer_options": OptimizerOptions(), **fields})


class ConfigProto(_Options):
    """Session configuration (ignored: the engine runs on the CPU with numpy).

    Its sub-messages exist, so `config.gpu_options.allow_growth = True` works.
    """

    def __init__(self, **fields: Any) -> None:
        super().__init__(**{"gpu_options": GPUOptions(), "graph_options": GraphOptions(), **fields})


class RunOptions(_Options):
    """Per-run options such as tracing (ignored)."""

    NO_TRACE, SOFTWARE_TRACE, HARDWARE_TRACE, FULL_TRACE = 0, 1, 2, 3


class RunMetadata(_Options):
    """Filled by a traced run in TensorFlow; stays empty here."""


def ignored(what: str, value: Any) -> None:
    """Log at DEBUG that an option was accepted and ignored."""
    if value is not None:
        log.debug("%s=%r accepted and ignored (the engine runs on the CPU with numpy)", what, value)
