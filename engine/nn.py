"""`tf.nn`: activations, softmax, l2_loss and the cross-entropies (TensorFlow 1.x names).

>>> import engine as tf
>>> loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=y, logits=z)  # doctest: +SKIP
"""
from .ops.nn import (elu, l2_loss, log_softmax, relu, sigmoid, sigmoid_cross_entropy_with_logits, softmax,
                     softmax_cross_entropy_with_logits, softmax_cross_entropy_with_logits_v2, softplus,
                     sparse_softmax_cross_entropy_with_logits, tanh)
from .ops.composite import embedding_lookup
from .ops.selection import in_top_k, top_k

__all__ = ["embedding_lookup", "in_top_k", "top_k", "elu", "l2_loss", "log_softmax", "relu", "sigmoid", "sigmoid_cross_entropy_with_logits", "softmax",
           "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2", "softplus",
           "sparse_softmax_cross_entropy_with_logits", "tanh"]
