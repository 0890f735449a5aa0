"""Normalization built from existing ops: moments, batch_normalization,
l2_normalize and leaky_relu, with TensorFlow 1.x's formulas.

They are compositions (no registry entries of their own), exactly as
TensorFlow 1.x defines them in Python, so their gradients, second
derivatives, batching rules and serialization are those of the ops they use.
"""
from __future__ import annotations

from typing import Any, Optional

from ..graph import Tensor, get_default_graph
from .toolkit import convert_to_tensor, normalize_axis
from .array import squeeze
from .compare import maximum, where
from .core import stop_gradient
from .math import rsqrt, square, squared_difference
from .reduction import reduce_mean, reduce_sum


def moments(x: Any, axes: Any, shift: Any = None, name: Optional[str] = None, keep_dims: Optional[bool] = None,
            keepdims: bool = False) -> tuple[Tensor, Tensor]:
    """(mean, variance) of `x` over `axes`; the variance is the biased (population) one.

    >>> images = tf.constant(np.arange(8.0).reshape(1, 2, 2, 2))
    >>> mean, variance = moments(images, axes=[0, 1, 2])  # per channel
    >>> tf.Session().run([mean, variance])
    [array([3., 4.]), array([5., 5.])]
    """
    keep = keepdims if keep_dims is None else keep_dims
    x = convert_to_tensor(x)
    axes = normalize_axis(axes)
    with x.graph.as_default(), get_default_graph().name_scope(name or "moments"):
        mean = reduce_mean(x, axes, keepdims=True, name="mean")
        # TensorFlow's form: the mean is a constant inside the variance (its gradient there is zero anyway)
        variance = reduce_mean(squared_difference(x, stop_gradient(mean)), axes, keepdims=True, name="variance")
        if not keep:
            mean, variance = squeeze(mean, list(axes)), squeeze(variance, list(axes))
        return mean, variance


def batch_normalization(x: Any, mean: Any, variance: Any, offset: Any, scale: Any, variance_epsilon: float,
                        name: Optional[str] = None) -> Tensor:
    """`scale * (x - mean) / sqrt(variance + epsilon) + offset` (offset and scale may be None),
    computed as TensorFlow does: `x * inv + (offset - mean * inv)` with `inv = scale * rsqrt(...)`."""
    x = convert_to_tensor(x)
    with x.graph.as_default(), get_default_graph().name_scope(name or "batchnorm"):
        inv = rsqrt(convert_to_tensor(variance, x.dtype) + variance_epsilon)
        if scale is not None:
            inv = inv * convert_to_tensor(scale, x.dtype)
        shift = -convert_to_tensor(mean, x.dtype) * inv
        if offset is not None:
            shift = convert_to_tensor(offset, x.dtype) + shift
        return x * inv + shift


def l2_normalize(x: Any, axis: Any = None, epsilon: float = 1e-12, name: Optional[str] = None,
                 dim: Any = None) -> Tensor:
    """`x / sqrt(max(sum(x ** 2, axis), epsilon))`: unit L2 norm along `axis` (None: all axes)."""
    x = convert_to_tensor(x)
    with x.graph.as_default(), get_default_graph().name_scope(name or "l2_normalize"):
        square_sum = reduce_sum(square(x), normalize_axis(dim if axis is None else axis), keepdims=True)
        return x * rsqrt(maximum(square_sum, epsilon))


def leaky_relu(features: Any, alpha: float = 0.2, name: Optional[str] = None) -> Tensor:
    """`x` where x > 0, else `alpha * x` (TensorFlow's default alpha, 0.2)."""
    x = convert_to_tensor(features)
    with x.graph.as_default(), get_default_graph().name_scope(name or "LeakyRelu"):
        if alpha <= 1:
            return maximum(alpha * x, x)
        return where(x > 0, x, alpha * x)
