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


class PlaceholderTypeError(ColumnError, TypeError):
    """A column's element type differs from the dtype of the placeholder it feeds."""


class PlaceholderShapeError(ColumnError, ValueError):
    """A column's cell shape can't fit the shape of the placeholder it feeds."""


class ProgramError(TensorFramesError, ValueError):
    """Fetches, placeholders and a DataFrame don't fit together as a program.

    Raised on the driver, before any Spark job, wherever the schema tells.
    """


class UnboundPlaceholderError(ProgramError):
    """A placeholder the fetches need is fed by no column."""


class OutputNameError(ProgramError):
    """An output column name clashes with an input column or another fetch."""


class FetchShapeError(ProgramError):
    """A fetch's shape doesn't fit the operation (e.g. its rows are not the input's rows)."""


class EmptyReductionError(ProgramError):
    """A reduction ran over a DataFrame (or group) without rows: there is nothing to combine."""


class SqlTranslationError(ProgramError):
    """A graph can't run as Spark SQL expressions (``backend="sql"``); names the first op that can't.

    ``op_type`` and ``op_name`` are that op's, ``reason`` says why.
    """

    def __init__(self, op_type: str, op_name: str, reason: str):
        super().__init__(f"op '{op_name}' ({op_type}): {reason}")
        self.op_type, self.op_name, self.reason = op_type, op_name, reason


class StageParamError(ProgramError):
    """The Params of a tensorframes.ml stage don't fit its graph or the DataFrame; names the Param."""


class PersistenceError(TensorFramesError, ValueError):
    """A tensorframes.ml stage can't be saved as asked, or saved files are not such a stage."""


class TrainingError(TensorFramesError):
    """Distributed training (:func:`tensorframes.train`) can't start or didn't finish."""


class LossError(TrainingError, ValueError):
    """The loss can't be trained: not a float scalar, or it doesn't depend on a variable to train."""


class NonFiniteValueError(ColumnError, TrainingError, ValueError):
    """A NaN or inf fed by a column made a training step's loss or gradient not finite.

    ``column`` and ``row`` (in its partition) say where the first such value is.
    """


class EmptyDataFrameError(TrainingError, ValueError):
    """Training over a DataFrame without rows: there is no gradient to average."""


class BarrierSlotsError(TrainingError):
    """Barrier training runs one task per partition, all at once, and there are fewer free slots."""


class AllreduceError(TrainingError, ConnectionError):
    """A peer of a barrier training was lost or timed out; the task fails so that Spark retries the stage."""


class RendezvousError(AllreduceError):
    """The tasks of a barrier stage attempt did not all meet in time; the task fails so that Spark retries."""


class StageTimeoutError(TrainingError, TimeoutError):
    """A running barrier training went silent for longer than its deadline; the driver stopped waiting."""


class TrainingCancelledError(TrainingError):
    """The training was cancelled (a Spark job cancel or interrupt); ``step`` steps were done, and the
    session's variables hold their values. ``how`` says which call (or Spark's reason)."""

    def __init__(self, message: str, step: int = 0, how: str | None = None):
        super().__init__(message)
        self.step, self.how = step, how


class CheckpointError(TrainingError, ValueError):
    """A checkpoint can't be read, or was written by another model or schedule."""
