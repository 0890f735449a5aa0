"""The op registry: one entry per op type holding everything about it.

An `OpDef` keeps, side by side, the op's attributes, its numpy kernel, its
shape/dtype inference, its gradient and its batching rule, so that adding an
op touches one place. Users add ops with the same `register_op` the engine
uses (see `examples/05_custom_op.py`). A process that only loads GraphDefs
(a Spark executor) learns a user's ops by importing the modules named in the
environment variable ENGINE_OP_MODULES, when it meets an unknown op type.

Contracts:
- `kernel(*inputs, **attrs)` is a pure numpy function returning one array, or
  a tuple of arrays for multi-output ops. A stateful op's kernel receives a
  `KernelContext` first: `kernel(ctx, *inputs, **attrs)`.
- `infer(inputs, **attrs)` gets the inputs' `TensorSpec`s and returns the
  output spec (or a list of them); it raises ShapeError/DTypeError with a
  short reason, and the graph adds the op type, name and input shapes.
- A `ref_input` op (assignments) gets the variable it writes as input 0;
  the plan passes only the other inputs and sets `ctx.ref` to its name.
- `shape_inputs` lists inputs the kernel reads only for their shape and
  dtype (`like` in `broadcast_like(x, like)`): a plan may then pass a
  zero-stride stand-in instead of computing the value.
- `grad(op, *output_grads)` builds graph ops and returns one gradient per
  input (None where there is none). `NOT_DIFFERENTIABLE` says the op has no
  gradient on purpose; a missing (None) gradient is an error when needed.
- `batch(args, batched, **attrs)` runs the op when some inputs carry an
  extra leading batch dimension (`batched[i]` tells which) and returns
  outputs that all carry it. None means no rule: callers loop over rows.
"""
from __future__ import annotations

import difflib
import importlib
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple, Optional, Sequence

from .attrs import KINDS
from .dtypes import DType
from .errors import RegistryError


class TensorSpec(NamedTuple):
    """Static description of a tensor: element type and dims (see shapes.Dims)."""

    dtype: DType
    shape: Optional[tuple]


class _NotDifferentiable:
    def __repr__(self) -> str:
        return "NOT_DIFFERENTIABLE"


NOT_DIFFERENTIABLE = _NotDifferentiable()


class KernelState(dict):
    """A session's private per-op state of stateful kernels (a random op's generator), by op name,
    never exported with the variables; `stream` keys the random streams the random ops draw
    (see engine.random_seed: () is the session's own, a tensorframes task sets its partition's)."""

    stream: tuple = ()


@dataclass
class KernelContext:
    """What a stateful kernel may touch: the session's variable store, and
    `state`, the session's :class:`KernelState`."""

    op_name: str
    variables: dict
    ref: Optional[str] = None  # the variable an Assign-like op writes to
    state: KernelState = field(default_factory=KernelState)


@dataclass(frozen=True)
class OpDef:
    """Everything about one op type; see the module docstring for contracts."""

    type: str
    kernel: Callable
    infer: Callable[..., Any]
    attrs: dict = field(default_factory=dict)  # attr name -> kind (see attrs.KINDS)
    num_inputs: Optional[int] = None  # None: any number (variadic ops)
    grad: Any = None
    batch: Optional[Callable] = None
    stateful: bool = False
    ref_input: bool = False  # input 0 names a variable to write; it is not read as data
    shape_inputs: tuple = ()  # inputs whose kernel reads only .shape/.dtype (see shape_inputs.py)
    defined_at: str = ""
    builtin: bool = False  # registered by the engine's own modules: its kernel is trusted to keep its infer rule

    @property
    def differentiable(self) -> bool:
        return self.grad is not NOT_DIFFERENTIABLE


_REGISTRY: dict[str, OpDef] = {}

#: Environment variable: comma-separated modules that register ops, imported
#: when an unknown op type is looked up (set it for Spark executors with
#: spark.executorEnv.ENGINE_OP_MODULES).
OP_MODULES_ENV = "ENGINE_OP_MODULES"


def _caller() -> str:
    """Where register_op was called from and, when that is inside a helper
    (`_binary` registers many ops from one line), the module-level line
    behind it.

    sys._getframe, not inspect.stack(): the latter reads source files and
    made registering a hundred ops cost most of a second.
    """
    frame = sys._getframe(2)
    where = f"{frame.f_code.co_filename}:{frame.f_lineno}"
    outer = frame
    while outer.f_back is not None and outer.f_code.co_name != "<module>":
        outer = outer.f_back
    if outer is frame or outer.f_code.co_name != "<module>":
        return where
    return f"{where} (from {outer.f_code.co_filename}:{outer.f_lineno})"


def _registering_module() -> str:
    """The name of the module whose top-level code registers the op (through helpers such as unary_op).

    The engine's own op families are trusted to return what their infer
    rules say (check_op tests them); a plan checks the outputs of all others.
    """
    frame = sys._getframe(2)
    while frame.f_back is not None and frame.f_code.co_name != "<module>":
        frame = frame.f_back
    return frame.f_globals.get("__name__", "")


def register_op(type: str, *, kernel: Callable, infer: Callable, attrs: Optional[dict] = None,
                num_inputs: Optional[int] = None, grad: Any = None, batch: Optional[Callable] = None,
                stateful: bool = False, ref_input: bool = False, shape_inputs: tuple = ()) -> OpDef:
    """Add an op type to the registry and return its OpDef.

    >>> register_op("Cube", kernel=lambda x: x ** 3, infer=lambda inputs: inputs[0],
    ...             num_inputs=1, grad=lambda op, g: [3.0 * op.inputs[0] ** 2 * g])
    OpDef(type='Cube', ...)
    >>> unregister_op("Cube")
    """
    if type in _REGISTRY:
        raise RegistryError(f"op type {type!r} is already registered at {_REGISTRY[type].defined_at}; "
                            f"registered again at {_caller()}")
    if not callable(kernel) or not callable(infer):
        raise RegistryError(f"op type {type!r}: kernel and infer must be functions")
    if not (grad is None or grad is NOT_DIFFERENTIABLE or callable(grad)) or not (batch is None or callable(batch)):
        raise RegistryError(f"op type {type!r}: grad must be a function or NOT_DIFFERENTIABLE, "
                            "batch a function or None")
    attrs = dict(attrs or {})
    for name, kind in attrs.items():
        if kind not in KINDS:
            raise RegistryError(f"op type {type!r}: attr {name!r} has unknown kind {kind!r}; "
                                f"known kinds: {', '.join(KINDS)}")
    opdef = OpDef(type, kernel, infer, attrs, num_inputs, grad, batch, stateful, ref_input, tuple(shape_inputs),
                  _caller(), _registering_module().partition(".")[0] == "engine")
    _REGISTRY[type] = opdef
    return opdef


def get_op(type: str) -> OpDef:
    """The OpDef of `type`; RegistryError naming close matches if unknown.

    An unknown type first imports the modules named in ENGINE_OP_MODULES.
    """
    opdef = _REGISTRY.get(type)
    if opdef is None and _import_op_modules():
        opdef = _REGISTRY.get(type)
    if opdef is None:
        close = difflib.get_close_matches(type, list(_REGISTRY), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise RegistryError(f"unknown op type {type!r}{hint} (an op of your own must be registered in this "
                            f"process: import its module, or name it in {OP_MODULES_ENV} as Spark executors need; "
                            "see examples/05_custom_op.py)")
    return opdef


def _import_op_modules() -> bool:
    """Import the modules ENGINE_OP_MODULES names that aren't imported yet; True if there were any.

    This is how a process that only loads GraphDefs, such as a Spark
    executor, learns the ops a user registered in a module of their own.
    """
    names = [n.strip() for n in os.environ.get(OP_MODULES_ENV, "").split(",") if n.strip()]
    missing = [n for n in names if n not in sys.modules]
    for name in missing:
        try:
            importlib.import_module(name)
        except ImportError as e:
            raise RegistryError(f"{OP_MODULES_ENV} names module {name!r}, which can't be imported ({e}); "
                                "put it on the path (with Spark: spark-submit --py-files or "
                                "SparkContext.addPyFile)") from e
    return bool(missing)


def registered_ops() -> Sequence[OpDef]:
    """All registered OpDefs, in registration order."""
    return list(_REGISTRY.values())


def unregister_op(type: str) -> None:
    """Remove a user op type (tests and notebooks that redefine an op)."""
    get_op(type)
    del _REGISTRY[type]
