"""The public surface for adding ops, as the built-in op families do.

An op is one registry entry (`register_op`: kernel, shape/dtype rule,
gradient, batching rule) plus a builder that adds it to a graph (`make`).
Elementwise ops come whole from `unary_op` / `binary_op`; a broadcasting
gradient reduces to each input's shape with `unbroadcast`; `check_op`
tests an op against a numpy reference (values, static shapes, gradients,
every batching pattern). See examples/huber_op.py.

>>> import engine as tf
>>> from engine import extend
>>> cube = extend.unary_op("ExtendDocCube", lambda x: x ** 3, lambda op, g: [g * 3 * tf.square(op.inputs[0])])
>>> extend.check_op(cube, [np.array([1.0, -2.0])], lambda x: x ** 3)
>>> tf.registry.unregister_op("ExtendDocCube")
"""
from .ops.elementwise import binary_grads, binary_op, unary_op, unbroadcast, zeros_grad
from .ops.toolkit import (batch_elementwise, batched_args, convert_to_tensor, elementwise, make, make_op, require,
                          same_dtype)
from .registry import NOT_DIFFERENTIABLE, KernelContext, TensorSpec, register_op
from .testing import check_grads, check_op

__all__ = ["NOT_DIFFERENTIABLE", "KernelContext", "TensorSpec", "batch_elementwise", "batched_args", "binary_grads",
           "binary_op", "check_grads", "check_op", "convert_to_tensor", "elementwise", "make", "make_op",
           "register_op", "require", "same_dtype", "unary_op", "unbroadcast", "zeros_grad"]
