"""engine: a TensorFlow-1.x-style dataflow graph engine on numpy.

`import engine as tf` and write graphs as in TensorFlow 1.x: placeholders,
variables, ops, `gradients`, optimizers, and a `Session` that runs them with
cached execution plans. Graphs serialize to a safe, versioned GraphDef (JSON
plus raw little-endian arrays; never pickle). Nothing here imports Spark.
"""
from . import dtypes, errors, gfile, registry
from .dtypes import DType, as_dtype, bool_, double, float16, float32, float64, half, int8, int16, int32, int64, string, uint8
from .errors import *  # noqa: F401,F403  (the exception hierarchy is public API)
from .gradients import gradients
from .graphdef import GraphDef
from .importer import import_graph_def
from .graph import (Graph, NodeDef, Operation, Tensor, control_dependencies, get_default_graph,
                    name_scope, reset_default_graph)
from .ops.core import constant, group, identity, no_op, placeholder, stop_gradient
from .ops.array import expand_dims, rank, reshape, shape, size, squeeze, tile, transpose
from .ops.creation import fill, ones, ones_like, range, zeros, zeros_like  # noqa: A001  (TF's names)
from .ops.indexing import gather, one_hot, slice, strided_slice  # noqa: A001
from .ops.joining import concat, stack, unstack
from .ops.linalg import matmul
from .ops.reduction import (argmax, argmin, reduce_all, reduce_any, reduce_max, reduce_mean, reduce_min,
                            reduce_prod, reduce_sum)
from .ops.elementwise import broadcast_like, sum_like
from .ops.math import (abs, add, add_n, cast, ceil, cos, div, divide, exp, floor, floordiv,  # noqa: A001
                       floormod, log, log1p, mod, multiply, negative, pow, realdiv, reciprocal, round, rsqrt, sign,
                       sin, sqrt, square, squared_difference, subtract, truediv)
from .ops.compare import (clip_by_value, equal, greater, greater_equal, less, less_equal, logical_and, logical_not,
                          logical_or, logical_xor, maximum, minimum, not_equal, where, where_v2)
from .ops.nn import sigmoid, tanh
from .control_flow import case, cond, while_loop
from .ops.composite import (arg_max, arg_min, clip_by_global_norm, clip_by_norm, count_nonzero, diag, diag_part,
                            eye, global_norm, is_tensor, lin_space, linspace, matrix_diag, matrix_diag_part,
                            reduce_logsumexp, split, tensordot, to_double, to_float, to_int32, to_int64, trace)
from .ops.core import placeholder_with_default
from .ops.linalg import matrix_determinant, matrix_inverse, matrix_transpose
from .ops.logging_ops import Print, print_ as print  # noqa: A001  (tf.print)
from .ops.math import truncatediv, truncatemod
from .ops.scan import cumprod, cumsum
from .ops.selection import boolean_mask, unsorted_segment_mean, unsorted_segment_sum
from .ops.random import (multinomial, random_gamma, random_normal, random_shuffle, random_uniform,
                         truncated_normal)
from .random_seed import get_seed, set_random_seed
from . import random
from .init_ops import (constant_initializer, glorot_normal_initializer, glorot_uniform_initializer, ones_initializer,
                       random_normal_initializer, random_uniform_initializer, truncated_normal_initializer,
                       variance_scaling_initializer, zeros_initializer)
from .variable_scope import (AUTO_REUSE, GraphKeys, VariableScope, add_to_collection, add_to_collections,
                             get_collection, get_collection_ref, get_variable, get_variable_scope, local_variables,
                             local_variables_initializer, model_variables, variable_scope)
from . import nn
from . import initializers, layers
from . import callbacks, summary
from . import losses, train
from . import models
from . import contrib
from .models import Sequential
from . import extend
from .ops.toolkit import convert_to_tensor
from .registry import NOT_DIFFERENTIABLE, KernelContext, OpDef, TensorSpec, get_op, register_op, registered_ops
from .session import InteractiveSession, Session
from . import tf_logging as logging  # noqa: E402  (tf.logging)
from . import app
from .app import flags
from .config import ConfigProto, GPUOptions, GraphOptions, OptimizerOptions, RunMetadata, RunOptions
from .shapes import TensorShape
from .variables import (Variable, assign, assign_add, assign_sub, all_variables, global_variables,
                        global_variables_initializer, initialize_all_variables, initialize_variables,
                        trainable_variables, variables_initializer)

bool = bool_  # noqa: A001  (TensorFlow spells it tf.bool)
newaxis = None  # x[:, newaxis] as in TensorFlow and numpy


def __getattr__(name: str):
    """`tf.Summary`, `tf.Event`, `tf.HistogramProto`: TensorFlow's messages, loaded on first use."""
    if name in ("Summary", "HistogramProto", "Event"):
        from .tf_graphdef import protos
        return getattr(protos.module("event_pb2" if name == "Event" else "summary_pb2"), name)
    raise AttributeError(f"module 'engine' has no attribute {name!r}")
