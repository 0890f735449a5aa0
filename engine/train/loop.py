"""Training loops and the seed's stopping rule: stop when the error no longer drops significantly."""
from __future__ import annotations

import math
from typing import Any, Optional

from ..graph import Operation, Tensor


class EarlyStopping:
    """Says when to stop: after `patience` consecutive losses that are not a significant
    improvement, i.e. not below the best loss so far by more than `tol` times its size.

    A non-finite loss is never an improvement. The rule is plain Python, so a
    distributed training loop applies it to the global loss the same way.

    >>> rule = EarlyStopping(tol=1e-6, patience=3)
    >>> rule.update(10.0), rule.update(5.0), rule.update(5.0), rule.update(5.0), rule.update(5.0)
    (False, False, False, False, True)
    """

    def __init__(self, tol: float = 1e-6, patience: int = 3) -> None:
        if tol < 0 or patience < 1:
            raise ValueError(f"EarlyStopping needs tol >= 0 and patience >= 1, found tol={tol}, patience={patience}")
        self.tol, self.patience = tol, patience
        self.best = math.inf
        self.stale = 0  # consecutive insignificant losses

    def update(self, loss: float) -> bool:
        """Record the next loss; True when training should stop."""
        loss = float(loss)
        improved = math.isfinite(loss) and (math.isinf(self.best) or self.best - loss > self.tol * abs(self.best))
        self.stale = 0 if improved else self.stale + 1
        if math.isfinite(loss):
            self.best = min(self.best, loss)
        return self.stale >= self.patience


def train_until_converged(session: Any, train_op: Operation, loss: Tensor, feed_dict: Optional[dict] = None,
                          tol: float = 1e-6, patience: int = 3, max_steps: int = 10_000,
                          rule: Optional[EarlyStopping] = None) -> list[float]:
    """Run `train_op` until `rule` (default EarlyStopping(tol, patience)) says stop, or `max_steps` runs.

    Returns the loss before each step (fetched in the same run as the step).

    >>> w = tf.Variable(5.0)
    >>> loss = tf.square(w - 1.0)
    >>> train_op = tf.train.GradientDescentOptimizer(0.25).minimize(loss)
    >>> with tf.Session() as sess:
    ...     sess.run(tf.global_variables_initializer())
    ...     history = train_until_converged(sess, train_op, loss, {})
    >>> history[:3], len(history) < 100
    ([16.0, 4.0, 1.0], True)
    """
    rule = rule or EarlyStopping(tol, patience)
    history: list[float] = []
    for _ in range(max_steps):
        value, _ = session.run([loss, train_op], feed_dict)
        history.append(float(value))
        if rule.update(value):
            break
    return history
