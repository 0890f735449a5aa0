"""Exceptions raised by tensorframes; all derive from :class:`TensorFramesError`."""


class TensorFramesError(Exception):
    """Base class of every error that tensorframes raises on purpose."""


class JavaNotFoundError(TensorFramesError):
    """No Java 17 or newer is available to start Spark with."""


class ColumnError(TensorFramesError):
    """A DataFrame column can't be used as a tensor.

    ``column`` names the column; ``row`` is the offending row when known.
    """

    def __init__(self, message: str, column: str | None = None, row: int | None = None):
        super().__init__(message)
        self.column = column
        self.row = row


class ColumnNotFoundError(ColumnError):
    """A column name is not in the DataFrame; the message lists the available ones."""


class UnsupportedColumnTypeError(ColumnError, TypeError):
    """A column's Spark type has no tensor equivalent (string, map, struct, ...)."""


class ColumnTypeError(ColumnError, TypeError):
    """Arrow data or a numpy array has another type than the column spec says."""


class NullValueError(ColumnError, ValueError):
    """A column holds a null (a whole cell or an element inside an array)."""


class ShapeMismatchError(ColumnError, ValueError):
    """Cells of a column are ragged, or differ from the column's known shape."""
