"""Exceptions raised by tensorframes; all derive from :class:`TensorFramesError`."""


class TensorFramesError(Exception):
    """Base class of every error that tensorframes raises on purpose."""


class JavaNotFoundError(TensorFramesError):
    """No Java 17 or newer is available to start Spark with."""
