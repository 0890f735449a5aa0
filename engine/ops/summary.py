"""Summary ops (`tf.summary`): values serialized as TensorFlow `Summary` protos for TensorBoard.

`scalar` and `histogram` return a string tensor holding a serialized
Summary; `merge`/`merge_all` concatenate them (a serialized Summary is a
list of values, so concatenation is merging); `engine.summary.FileWriter`
writes the fetched bytes to an event file. Summaries are added to the
graph's `summaries` collection, which `merge_all` reads.

>>> import engine as tf
>>> with tf.Graph().as_default():
...     loss = tf.placeholder(tf.float32, [], name="x") * 2.0
...     _ = scalar("loss", loss)
...     merged = merge_all()
...     serialized = tf.Session().run(merged, {"x:0": 1.5})
>>> tf.Summary.FromString(serialized).value[0].simple_value  # fetched as bytes, as in TF
3.0
"""
from __future__ import annotations

from typing import Any, Optional, Sequence

import numpy as np

from .. import dtypes
from ..errors import DTypeError, InvalidArgumentError, ShapeError
from ..graph import Tensor, get_default_graph
from ..registry import NOT_DIFFERENTIABLE, TensorSpec, register_op
from .toolkit import convert_to_tensor, make

SUMMARIES = "summaries"  # TensorFlow's GraphKeys.SUMMARIES
_STRING_SCALAR = TensorSpec(dtypes.string, ())


def _summary_of(tag: str, **value: Any) -> np.ndarray:
    """A 0-d object array holding one serialized Summary with one value."""
    from ..tf_graphdef import protos
    summary = protos.module("summary_pb2").Summary()
    entry = summary.value.add(tag=tag)
    for key, field in value.items():
        if key == "histo":
            entry.histo.CopyFrom(field)
        else:
            setattr(entry, key, field)
    return np.array(summary.SerializeToString(), dtype=object)


def _numeric(inputs: Sequence[TensorSpec], what: str) -> None:
    if not inputs[0].dtype.is_numeric:
        raise DTypeError(f"{what} needs a numeric tensor, found {inputs[0].dtype.name}")


def _scalar_infer(inputs: Sequence[TensorSpec], *, tag: str) -> TensorSpec:
    _numeric(inputs, "a scalar summary")
    if inputs[0].shape is not None and inputs[0].shape != ():
        raise ShapeError(f"a scalar summary needs a scalar, found shape {list(inputs[0].shape)}")
    return _STRING_SCALAR


def _scalar_kernel(x: np.ndarray, *, tag: str) -> np.ndarray:
    if np.ndim(x) != 0:
        raise InvalidArgumentError(f"scalar summary '{tag}': expected a scalar, found shape {list(np.shape(x))}")
    return _summary_of(tag, simple_value=float(x))


def _histogram_infer(inputs: Sequence[TensorSpec], *, tag: str) -> TensorSpec:
    _numeric(inputs, "a histogram summary")
    return _STRING_SCALAR


def _histogram_kernel(x: np.ndarray, *, tag: str) -> np.ndarray:
    from ..summary.buckets import histogram_proto
    try:
        return _summary_of(tag, histo=histogram_proto(x))
    except ValueError as e:
        raise InvalidArgumentError(f"histogram summary '{tag}': {e}") from None


def _merge_infer(inputs: Sequence[TensorSpec]) -> TensorSpec:
    if not inputs or any(t.dtype is not dtypes.string or t.shape != () for t in inputs):
        raise DTypeError("merge needs one or more summaries (string scalars)")
    return _STRING_SCALAR


def _merge_kernel(*summaries: np.ndarray) -> np.ndarray:
    return np.array(b"".join(s.item() for s in summaries), dtype=object)


register_op("ScalarSummary", kernel=_scalar_kernel, infer=_scalar_infer, attrs={"tag": "str"}, num_inputs=1,
            grad=NOT_DIFFERENTIABLE)
register_op("HistogramSummary", kernel=_histogram_kernel, infer=_histogram_infer, attrs={"tag": "str"},
            num_inputs=1, grad=NOT_DIFFERENTIABLE)
register_op("MergeSummary", kernel=_merge_kernel, infer=_merge_infer, grad=NOT_DIFFERENTIABLE)


def _summary(op_type: str, name: str, tensor: Any, collections: Optional[Sequence[str]],
             family: Optional[str]) -> Tensor:
    graph = get_default_graph()
    value = convert_to_tensor(tensor)
    tag = graph.unique_name(f"{family}/{name}" if family else name, mark_as_used=False)  # scoped, as in TF 1.x
    out = graph.create_op(op_type, [value], {"tag": tag}, name=tag, exact_name=True).outputs[0]
    for key in (SUMMARIES,) if collections is None else collections:
        graph.add_to_collection(key, out)
    return out


def scalar(name: str, tensor: Any, collections: Optional[Sequence[str]] = None,
           family: Optional[str] = None) -> Tensor:
    """A summary of the scalar `tensor`, tagged with `name` in the current name scope."""
    return _summary("ScalarSummary", name, tensor, collections, family)


def histogram(name: str, values: Any, collections: Optional[Sequence[str]] = None,
              family: Optional[str] = None) -> Tensor:
    """A histogram summary of the elements of `values` (TensorFlow's default buckets)."""
    return _summary("HistogramSummary", name, values, collections, family)


def merge(inputs: Sequence[Tensor], collections: Optional[Sequence[str]] = None, name: Optional[str] = None) -> Tensor:
    """One summary holding all of `inputs`."""
    out = make("MergeSummary", [convert_to_tensor(t) for t in inputs], name or "Merge/MergeSummary")
    for key in collections or ():
        get_default_graph().add_to_collection(key, out)
    return out


def merge_all(key: str = SUMMARIES, scope: Optional[str] = None, name: Optional[str] = None) -> Optional[Tensor]:
    """All summaries of collection `key` (those whose name starts with `scope`) merged; None if there are none."""
    found = [t for t in get_default_graph().get_collection(key) if scope is None or t.op.name.startswith(scope)]
    return merge(found, name=name) if found else None
