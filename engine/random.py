"""`tf.random`: the random ops under their TensorFlow names, and the seed functions.

>>> import engine as tf
>>> tf.random.set_random_seed(0)
>>> tf.random.normal([2, 3]).shape
TensorShape((2, 3))
"""
from .ops.random import (categorical, multinomial, random_gamma as gamma, random_normal as normal,
                         random_shuffle as shuffle, random_uniform as uniform, truncated_normal)
from .random_seed import get_seed, set_random_seed

set_seed = set_random_seed  # TensorFlow 2's name

__all__ = ["categorical", "gamma", "get_seed", "multinomial", "normal", "set_random_seed", "set_seed", "shuffle",
           "truncated_normal", "uniform"]
