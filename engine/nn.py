"""`tf.nn`: activations, softmax, l2_loss, the cross-entropies, convolution and pooling (TensorFlow 1.x names).

>>> import engine as tf
>>> loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=[[0.0, 1.0]], logits=[[0.0, 0.0]])
>>> float(tf.Session().run(loss)[0])  # log 2
0.6931471824645996
"""
from .ops.conv import bias_add, conv2d, conv2d_backprop_filter, conv2d_backprop_input, conv2d_transpose
from .ops.dropout import dropout
from .ops.pooling import avg_pool, max_pool
from .ops.normalization import batch_normalization, l2_normalize, leaky_relu, moments
from .ops.nn import (elu, l2_loss, log_softmax, relu, sigmoid, sigmoid_cross_entropy_with_logits, softmax,
                     softmax_cross_entropy_with_logits, softmax_cross_entropy_with_logits_v2, softplus,
                     sparse_softmax_cross_entropy_with_logits, tanh)
from .ops.composite import embedding_lookup
from .ops.selection import in_top_k, top_k

__all__ = ["embedding_lookup", "in_top_k", "top_k", "avg_pool", "bias_add", "conv2d", "conv2d_backprop_filter", "conv2d_backprop_input", "conv2d_transpose",
           "max_pool", "dropout", "batch_normalization", "l2_normalize", "leaky_relu", "moments",
           "elu", "l2_loss", "log_softmax", "relu", "sigmoid", "sigmoid_cross_entropy_with_logits", "softmax",
           "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2", "softplus",
           "sparse_softmax_cross_entropy_with_logits", "tanh"]
