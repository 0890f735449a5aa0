"""Every exception the engine raises, in one hierarchy.

Messages say what was expected, what was found and where (op type, op name,
tensor name, shapes), so a user can act on them without reading engine code.
"""


class EngineError(Exception):
    """Base class of all engine errors."""


class RegistryError(EngineError):
    """An op type is registered twice, or looked up but unknown."""


class ShapeError(EngineError, ValueError):
    """Static or runtime shapes do not fit an op or a placeholder."""


class DTypeError(EngineError, TypeError):
    """Dtypes do not fit an op or a placeholder (no silent promotion)."""


class GraphError(EngineError, ValueError):
    """A graph is used inconsistently (foreign tensors, unknown names, ...)."""


class FeedError(EngineError, ValueError):
    """A feed_dict entry is invalid: unknown key, wrong shape or dtype."""


class FetchError(EngineError, ValueError):
    """A fetch cannot be computed (e.g. an unfed placeholder)."""


class FailedPreconditionError(EngineError, RuntimeError):
    """The graph needs state that is missing, e.g. an uninitialized variable."""


class GradientError(EngineError, LookupError):
    """An op has no gradient, or a gradient function broke its contract."""


class GraphDefError(EngineError, ValueError):
    """A serialized graph is malformed or inconsistent; names the node."""


class ProtobufUnavailableError(EngineError, ImportError):
    """TensorFlow's protobuf messages are needed (TF GraphDefs, TensorBoard) but not installed."""


class SavedModelError(GraphDefError):
    """A saved-model directory is missing, malformed or was altered; names the file."""


class InvalidArgumentError(EngineError, ValueError):
    """A kernel received values it cannot process (raised at run time)."""


class NotFoundError(FailedPreconditionError):
    """A checkpoint, file or saved name does not exist (TensorFlow's NotFoundError)."""


class DataLossError(InvalidArgumentError):
    """A file is truncated, malformed or does not match its digest (a checkpoint, a TensorBoard event file);
    names the file (and the offset in a record file)."""


class KernelOutputError(InvalidArgumentError):
    """A kernel returned an output its op's `infer` rule contradicts (dtype or shape): a bug in that op's
    registration; names the op type and name, the output index, both specs and where the op was registered."""


class NotFittedError(EngineError, ValueError, AttributeError):
    """An estimator of engine.learn is used before ``fit`` (a ValueError and AttributeError, as in scikit-learn)."""
