"""`tf.logging`: TF 1.x's logging calls on the standard `logging` module ("tensorflow" logger).

>>> set_verbosity(INFO)
>>> info("step %d", 1)  # to the "tensorflow" logger
"""
from __future__ import annotations

import logging
from typing import Any

DEBUG, INFO, WARN, ERROR, FATAL = logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR, logging.CRITICAL
_logger = logging.getLogger("tensorflow")
_counts: dict = {}


def set_verbosity(level: int) -> None:
    _logger.setLevel(level)


def get_verbosity() -> int:
    return _logger.getEffectiveLevel()


def log(level: int, msg: Any, *args: Any) -> None:
    _logger.log(level, msg, *args)


def debug(msg: Any, *args: Any) -> None:
    _logger.debug(msg, *args)


def info(msg: Any, *args: Any) -> None:
    _logger.info(msg, *args)


def warning(msg: Any, *args: Any) -> None:
    _logger.warning(msg, *args)


warn = warning


def error(msg: Any, *args: Any) -> None:
    _logger.error(msg, *args)


def fatal(msg: Any, *args: Any) -> None:
    _logger.critical(msg, *args)


def log_every_n(level: int, msg: Any, n: int, *args: Any) -> None:
    """Log the 1st, (n+1)-th, ... call made from the same message."""
    count = _counts.get(msg, 0)
    _counts[msg] = count + 1
    if count % n == 0:
        _logger.log(level, msg, *args)
