"""engine.testing.check_op tries every batching pattern, so a rule wrong for one of them is caught."""
from __future__ import annotations

import numpy as np
import pytest

from engine import extend
from engine.registry import unregister_op
from engine.testing import check_op


@pytest.fixture
def add_wrong_when_only_y_is_batched():
    """An Add whose batching rule forgets to align y's batch axis when x is not batched."""
    def batch(args, batched):
        x, y = args
        if batched[1] and not batched[0]:
            return x + y.sum(axis=0)  # wrong: folds the batch axis away
        return extend.batch_elementwise(np.add)(args, batched)
    extend.register_op("TestingSubsetAdd", kernel=np.add, infer=extend.elementwise(), num_inputs=2,
                       grad=extend.NOT_DIFFERENTIABLE, batch=batch)
    yield lambda x, y: extend.make("TestingSubsetAdd", [x, y], None)
    unregister_op("TestingSubsetAdd")


def test_check_op_catches_a_rule_wrong_only_when_the_second_argument_alone_is_batched(
        add_wrong_when_only_y_is_batched):
    with pytest.raises(AssertionError, match=r"arguments \[1\] of 2 batched"):
        check_op(add_wrong_when_only_y_is_batched, [np.ones(3), np.arange(3.0)], np.add, grad=False)
