"""Plain gradient descent: `var -= learning_rate * grad`."""
from __future__ import annotations

from typing import Any

from ..graph import Tensor
from ..variables import Variable
from .optimizer import Optimizer, Update, hyper


class GradientDescentOptimizer(Optimizer):
    """TensorFlow 1.x's GradientDescentOptimizer: `var -= learning_rate * grad`.

    >>> w = tf.Variable(1.0)
    >>> train_op = GradientDescentOptimizer(0.1).minimize(tf.square(w))
    >>> with tf.Session() as sess:
    ...     sess.run(tf.global_variables_initializer())
    ...     sess.run(train_op)
    ...     sess.run(w)  # 1 - 0.1 * 2
    array(0.8, dtype=float32)
    """

    def __init__(self, learning_rate: Any, use_locking: bool = False, name: str = "GradientDescent") -> None:
        super().__init__(use_locking, name)
        self._learning_rate = learning_rate

    def _update(self, grad: Tensor, var: Variable) -> list[Update]:
        return [(var, var - hyper(self._learning_rate, var.dtype, "learning_rate") * grad)]
