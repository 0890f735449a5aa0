"""Random ops, seeded the TensorFlow 1.x way (see engine.random_seed).

Each random op is a stateful graph op with `seed` and `seed2` attrs. A
session keeps one numpy Generator per random op, created from the two seeds
on its first run, so: the same program gives the same numbers in every new
session (and in every process the GraphDef is shipped to), each run of the
op draws new numbers, and other seeds give other numbers. Seeds (0, 0) mean
nondeterministic, as in TensorFlow. A session can be moved to another
stream of the same seeds (`Session.reset_kernel_state(stream)`): what each
Spark partition does, so partitions draw distinct numbers. The streams are numpy's, not
TensorFlow's: the same seed does not give TensorFlow's numbers.

As in TensorFlow, `random_normal` is `RandomStandardNormal * stddev + mean`
and `random_uniform` is `RandomUniform * (maxval - minval) + minval`, so
gradients reach mean, stddev and the bounds; the sampling ops themselves
have no gradient.

>>> x = tf.random_normal([2, 3], seed=1)
>>> first = tf.Session().run(x)
>>> bool((tf.Session().run(x) == first).all())  # a new session: the same numbers
True
"""
from __future__ import annotations

import contextlib
from typing import Any, Iterator, Optional, Sequence

import numpy as np

from .. import dtypes
from ..errors import DTypeError, GradientError, InvalidArgumentError, ShapeError
from ..graph import Tensor, get_default_graph
from ..random_seed import seed_attrs
from ..registry import NOT_DIFFERENTIABLE, KernelContext, TensorSpec, register_op
from ..shapes import format_dims
from .toolkit import convert_to_tensor, make, require
from .creation import shape_argument

_SEEDS = {"seed": "int", "seed2": "int"}


def _generator(ctx: KernelContext, seed: int, seed2: int) -> np.random.Generator:
    """The session's generator for this op: seeded from its attrs and the session's stream key on
    first use, then advancing (see engine.random_seed)."""
    rng = ctx.state.get(ctx.op_name)
    if rng is None:
        entropy = None if seed == seed2 == 0 else np.random.SeedSequence([seed, seed2], spawn_key=ctx.state.stream)
        rng = ctx.state[ctx.op_name] = np.random.default_rng(entropy)
    return rng


def _size(dims: np.ndarray, static: Optional[tuple]) -> tuple:
    """The run-time shape from the shape input, checked against the static one."""
    if dims.ndim != 1 or (dims < 0).any():
        raise InvalidArgumentError(f"shape must be a vector of non-negative ints, found {dims.tolist()}")
    size = tuple(int(d) for d in dims)
    if static is not None and (len(static) != len(size) or any(s not in (None, d) for s, d in zip(static, size))):
        raise InvalidArgumentError(f"shape {size} does not fit the static shape {format_dims(static)}")
    return size


def _check_shape_input(spec: TensorSpec) -> None:
    require(spec.dtype, "i", "shape")
    if spec.shape is not None and len(spec.shape) != 1:
        raise ShapeError(f"shape must be a vector, found shape {format_dims(spec.shape)}")


def _float_draw(method: str):
    """A kernel drawing `Generator.<method>` samples of a float dtype (float16 drawn as float32)."""
    def kernel(ctx: KernelContext, dims: np.ndarray, *, dtype, seed: int, seed2: int, shape) -> np.ndarray:
        draw = getattr(_generator(ctx, seed, seed2), method)
        size = _size(dims, shape)
        if dtype.np in (np.float32, np.float64):
            return draw(size, dtype=dtype.np)
        out = draw(size, dtype=np.float32).astype(dtype.np)
        return np.minimum(out, np.nextafter(dtype.np.type(1), dtype.np.type(0))) if method == "random" else out
    return kernel


def _float_infer(inputs: Sequence[TensorSpec], *, dtype, seed: int, seed2: int, shape) -> TensorSpec:
    _check_shape_input(inputs[0])
    require(dtype, "f", "dtype")
    return TensorSpec(dtype, shape)


def _truncate(kernel):
    """Redraw the samples of `kernel` more than 2 from 0, as TruncatedNormal does."""
    def truncated(ctx: KernelContext, dims: np.ndarray, **attrs) -> np.ndarray:
        out = kernel(ctx, dims, **attrs)
        rng = _generator(ctx, attrs["seed"], attrs["seed2"])
        bad = np.abs(out) >= 2
        while bad.any():
            out[bad] = rng.standard_normal(int(bad.sum())).astype(out.dtype)
            bad = np.abs(out) >= 2
        return out
    return truncated


_FLOAT_ATTRS = {"dtype": "type", **_SEEDS, "shape": "shape?"}
register_op("RandomStandardNormal", kernel=_float_draw("standard_normal"), infer=_float_infer, attrs=_FLOAT_ATTRS,
            num_inputs=1, stateful=True, grad=NOT_DIFFERENTIABLE)
register_op("RandomUniform", kernel=_float_draw("random"), infer=_float_infer, attrs=_FLOAT_ATTRS,
            num_inputs=1, stateful=True, grad=NOT_DIFFERENTIABLE)
register_op("TruncatedNormal", kernel=_truncate(_float_draw("standard_normal")), infer=_float_infer,
            attrs=_FLOAT_ATTRS, num_inputs=1, stateful=True, grad=NOT_DIFFERENTIABLE)


@contextlib.contextmanager
def _scope(name: Optional[str], default: str) -> Iterator[str]:
    """A name scope whose name is also the name of the op that ends the builder (TF's naming)."""
    with get_default_graph().name_scope(name or default) as scope:
        yield scope[:-1]


def _named(op_type: str, inputs: Sequence[Tensor], name: str) -> Tensor:
    """The builder's last op, named exactly like its scope (`random_normal`, not `random_normal/add`)."""
    return get_default_graph().create_op(op_type, list(inputs), {}, name=name, exact_name=True).outputs[0]


def _float_dtype(dtype: Any, what: str) -> dtypes.DType:
    dtype = dtypes.as_dtype(dtype)
    if not dtype.is_floating:
        raise DTypeError(f"{what} draws floating values, found dtype {dtype.name}")
    return dtype


def _sample(op_type: str, shape: Any, dtype: dtypes.DType, seed: Optional[int]) -> Tensor:
    dims, static = shape_argument(shape)
    return make(op_type, [dims], op_type, dtype=dtype, shape=static, **seed_attrs(seed))


def _scaled(op_type: str, default: str, shape: Any, scale: Any, offset: Any, dtype: Any, seed: Optional[int],
            name: Optional[str]) -> Tensor:
    """sample * scale + offset, named as TensorFlow names it."""
    dtype = _float_dtype(dtype, default)
    with _scope(name, default) as full:
        offset, scale = convert_to_tensor(offset, dtype, "offset"), convert_to_tensor(scale, dtype, "scale")
        mul = make("Mul", [_sample(op_type, shape, dtype, seed), scale], "mul")
        return _named("Add", [mul, offset], full)


def random_normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = dtypes.float32,
                  seed: Optional[int] = None, name: Optional[str] = None) -> Tensor:
    """Samples of Normal(mean, stddev) of `shape` (ints or an int tensor)."""
    return _scaled("RandomStandardNormal", "random_normal", shape, stddev, mean, dtype, seed, name)


def truncated_normal(shape: Any, mean: Any = 0.0, stddev: Any = 1.0, dtype: Any = dtypes.float32,
                     seed: Optional[int] = None, name: Optional[str] = None) -> Tensor:
    """Normal(mean, stddev) samples, redrawn where more than 2 stddev from the mean."""
    return _scaled("TruncatedNormal", "truncated_normal", shape, stddev, mean, dtype, seed, name)


# -- uniform ints ---------------------------------------------------------------------------
def _uniform_int_infer(inputs: Sequence[TensorSpec], *, seed: int, seed2: int, shape) -> TensorSpec:
    dims, low, high = inputs
    _check_shape_input(dims)
    if low.dtype is not high.dtype or low.dtype not in (dtypes.int32, dtypes.int64):
        raise DTypeError(f"minval and maxval must both be int32 or both int64, found {low.dtype.name} "
                         f"and {high.dtype.name}")
    if any(s.shape not in (None, ()) for s in (low, high)):
        raise ShapeError("minval and maxval must be scalars")
    return TensorSpec(low.dtype, shape)


def _uniform_int_kernel(ctx: KernelContext, dims: np.ndarray, low: np.ndarray, high: np.ndarray, *,
                        seed: int, seed2: int, shape) -> np.ndarray:
    if not low < high:
        raise InvalidArgumentError(f"random_uniform needs minval < maxval, found {low} and {high}")
    return _generator(ctx, seed, seed2).integers(low, high, _size(dims, shape), dtype=low.dtype)


register_op("RandomUniformInt", kernel=_uniform_int_kernel, infer=_uniform_int_infer,
            attrs={**_SEEDS, "shape": "shape?"}, num_inputs=3, stateful=True, grad=NOT_DIFFERENTIABLE)


def random_uniform(shape: Any, minval: Any = 0, maxval: Any = None, dtype: Any = dtypes.float32,
                   seed: Optional[int] = None, name: Optional[str] = None) -> Tensor:
    """Uniform samples in [minval, maxval): floats (maxval defaults to 1) or ints (maxval required)."""
    dtype = dtypes.as_dtype(dtype)
    if dtype.is_floating:
        maxval = 1 if maxval is None else maxval
        with _scope(name, "random_uniform") as full:
            low, high = convert_to_tensor(minval, dtype, "min"), convert_to_tensor(maxval, dtype, "max")
            scale = make("Sub", [high, low], "sub")
            mul = make("Mul", [_sample("RandomUniform", shape, dtype, seed), scale], "mul")
            return _named("Add", [mul, low], full)
    if dtype not in (dtypes.int32, dtypes.int64):
        raise DTypeError(f"random_uniform draws floats, int32 or int64, found dtype {dtype.name}")
    if maxval is None:
        raise InvalidArgumentError(f"random_uniform of dtype {dtype.name} needs maxval")
    with _scope(name, "random_uniform") as full:
        dims, static = shape_argument(shape)
        low, high = convert_to_tensor(minval, dtype, "min"), convert_to_tensor(maxval, dtype, "max")
        return get_default_graph().create_op("RandomUniformInt", [dims, low, high],
                                             {"shape": static, **seed_attrs(seed)}, name=full,
                                             exact_name=True).outputs[0]


# -- shuffle --------------------------------------------------------------------------------
def _shuffle_kernel(ctx: KernelContext, value: np.ndarray, *, seed: int, seed2: int) -> np.ndarray:
    if value.ndim == 0:
        return value.copy()
    return _generator(ctx, seed, seed2).permutation(value)


register_op("RandomShuffle", kernel=_shuffle_kernel, infer=lambda inputs, *, seed, seed2: inputs[0],
            attrs=_SEEDS, num_inputs=1, stateful=True, grad=NOT_DIFFERENTIABLE)


def random_shuffle(value: Any, seed: Optional[int] = None, name: Optional[str] = None) -> Tensor:
    """`value` with its first dimension shuffled (a new permutation each run)."""
    return make("RandomShuffle", [convert_to_tensor(value)], name or "RandomShuffle", **seed_attrs(seed))


# -- multinomial / categorical --------------------------------------------------------------
def _multinomial_infer(inputs: Sequence[TensorSpec], *, seed: int, seed2: int, output_dtype) -> TensorSpec:
    logits, num = inputs
    require(logits.dtype, "f", "logits")
    require(num.dtype, "i", "num_samples")
    if logits.shape is not None and len(logits.shape) != 2:
        raise ShapeError(f"logits must be a matrix [batch_size, num_classes], found {format_dims(logits.shape)}")
    if num.shape not in (None, ()):
        raise ShapeError(f"num_samples must be a scalar, found shape {format_dims(num.shape)}")
    if output_dtype not in (dtypes.int32, dtypes.int64):
        raise DTypeError(f"output_dtype must be int32 or int64, found {output_dtype.name}")
    return TensorSpec(output_dtype, (None if logits.shape is None else logits.shape[0], None))


def _multinomial_kernel(ctx: KernelContext, logits: np.ndarray, num: np.ndarray, *, seed: int, seed2: int,
                        output_dtype) -> np.ndarray:
    if logits.shape[1] == 0 or num < 0:
        raise InvalidArgumentError(f"multinomial needs at least one class and num_samples >= 0, found "
                                   f"{logits.shape[1]} classes and num_samples {int(num)}")
    top = logits.max(axis=1, keepdims=True)
    cdf = np.cumsum(np.exp(logits - np.where(np.isfinite(top), top, 0)), axis=1)
    u = _generator(ctx, seed, seed2).random((logits.shape[0], int(num))) * cdf[:, -1:]
    rows = [np.searchsorted(c, r, side="right") for c, r in zip(cdf, u)]
    return np.minimum(np.asarray(rows, dtype=output_dtype.np).reshape(u.shape), logits.shape[1] - 1)


register_op("Multinomial", kernel=_multinomial_kernel, infer=_multinomial_infer,
            attrs={**_SEEDS, "output_dtype": "type"}, num_inputs=2, stateful=True, grad=NOT_DIFFERENTIABLE)


def multinomial(logits: Any, num_samples: Any, seed: Optional[int] = None, name: Optional[str] = None,
                output_dtype: Any = dtypes.int64) -> Tensor:
    """`num_samples` class indices per row of `logits` ([batch, classes], unnormalized log-probabilities)."""
    return make("Multinomial", [convert_to_tensor(logits), convert_to_tensor(num_samples, dtypes.int32)],
                name or "Multinomial", output_dtype=dtypes.as_dtype(output_dtype), **seed_attrs(seed))


def categorical(logits: Any, num_samples: Any, dtype: Any = None, seed: Optional[int] = None,
                name: Optional[str] = None) -> Tensor:
    """tf.random.categorical: `multinomial` with the output dtype given as `dtype` (default int64)."""
    return multinomial(logits, num_samples, seed, name or "categorical", dtype or dtypes.int64)


# -- gamma ----------------------------------------------------------------------------------
def _gamma_infer(inputs: Sequence[TensorSpec], *, seed: int, seed2: int, shape) -> TensorSpec:
    dims, alpha = inputs
    _check_shape_input(dims)
    require(alpha.dtype, "f", "alpha")
    return TensorSpec(alpha.dtype, None if shape is None or alpha.shape is None else shape + alpha.shape)


def _gamma_kernel(ctx: KernelContext, dims: np.ndarray, alpha: np.ndarray, *, seed: int, seed2: int,
                  shape) -> np.ndarray:
    if (alpha <= 0).any():
        raise InvalidArgumentError(f"random_gamma needs alpha > 0, found {alpha.min()}")
    size = _size(dims, shape) + alpha.shape
    return _generator(ctx, seed, seed2).standard_gamma(np.broadcast_to(alpha, size)).astype(alpha.dtype)


def _gamma_grad(op, g):
    raise GradientError(f"RandomGamma '{op.name}': the gradient with respect to alpha (TensorFlow's implicit "
                        "reparameterization) is not implemented; wrap alpha in stop_gradient")


register_op("RandomGamma", kernel=_gamma_kernel, infer=_gamma_infer, attrs={**_SEEDS, "shape": "shape?"},
            num_inputs=2, stateful=True, grad=_gamma_grad)


def random_gamma(shape: Any, alpha: Any, beta: Any = None, dtype: Any = dtypes.float32,
                 seed: Optional[int] = None, name: Optional[str] = None) -> Tensor:
    """Gamma(alpha, beta) samples (beta is the inverse scale) of shape `shape + alpha.shape`."""
    dtype = _float_dtype(dtype, "random_gamma")
    with _scope(name, "random_gamma") as full:
        dims, static = shape_argument(shape)
        alpha = convert_to_tensor(alpha, dtype, "alpha")
        sample = make("RandomGamma", [dims, alpha], "RandomGamma", shape=static, **seed_attrs(seed))
        if beta is None:
            return _named("Identity", [sample], full)
        return _named("RealDiv", [sample, convert_to_tensor(beta, dtype, "beta")], full)
