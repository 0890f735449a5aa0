"""`tf.nn`: activations, softmax, l2_loss and the cross-entropies (TensorFlow 1.x names).

>>> import engine as tf
>>> loss = tf.nn.softmax_cross_entropy_with_logits_v2(labels=[[0.0, 1.0]], logits=[[0.0, 0.0]])
>>> float(tf.Session().run(loss)[0])  # log 2
0.6931471824645996
"""
from .ops.nn import (elu, l2_loss, log_softmax, relu, sigmoid, sigmoid_cross_entropy_with_logits, softmax,
                     softmax_cross_entropy_with_logits, softmax_cross_entropy_with_logits_v2, softplus,
                     sparse_softmax_cross_entropy_with_logits, tanh)

__all__ = ["elu", "l2_loss", "log_softmax", "relu", "sigmoid", "sigmoid_cross_entropy_with_logits", "softmax",
           "softmax_cross_entropy_with_logits", "softmax_cross_entropy_with_logits_v2", "softplus",
           "sparse_softmax_cross_entropy_with_logits", "tanh"]
