"""Write conv_reference.npz: TensorFlow's own conv2d / pooling values and gradients.

Run with the TensorFlow venv (TensorFlow is never a dependency of the project):

    /work/venvs/tf/bin/python tests/engine/data/make_conv_reference.py

The inputs are stored beside the outputs, so the test needs only numpy. Keys
are "<case>/<name>"; each case is one op with one geometry (TensorFlow's CPU
Conv2D kernel has no dilations: dilated cases go through tf.nn.convolution, which
refuses strides > 1 with them, so no case has both).
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "conv_reference.npz"
CONV = [("SAME", (1, 1), (1, 1)), ("VALID", (1, 1), (1, 1)), ("SAME", (2, 2), (1, 1)), ("VALID", (2, 3), (1, 1)),
        ("SAME", (1, 1), (2, 2)), ("VALID", (1, 1), (2, 1))]
POOL = [("SAME", (2, 2), (2, 2)), ("VALID", (3, 3), (2, 2)), ("SAME", (3, 2), (1, 2))]


def conv_case(tf, rng, padding, strides, dilations):
    x, f = rng.standard_normal((2, 7, 8, 3)), rng.standard_normal((3, 2, 3, 4))
    xt, ft = tf.constant(x), tf.constant(f)
    if dilations == (1, 1):
        y = tf.nn.conv2d(xt, ft, [1, *strides, 1], padding)
    else:  # the CPU Conv2D kernel has no dilations; convolution() gets them via space_to_batch
        y = tf.nn.convolution(xt, ft, padding, dilation_rate=list(dilations))
    dy = rng.standard_normal(y.shape.as_list())
    dx, df = tf.gradients(y, [xt, ft], tf.constant(dy))
    return {"x": x, "f": f, "dy": dy, "y": y, "dx": dx, "df": df}


def pool_case(tf, rng, op, padding, ksize, strides):
    x = rng.permutation(2 * 7 * 8 * 3).reshape(2, 7, 8, 3) / 10.0
    xt = tf.constant(x)
    y = op(xt, [1, *ksize, 1], [1, *strides, 1], padding)
    dy = rng.standard_normal(y.shape.as_list())
    (dx,) = tf.gradients(y, [xt], tf.constant(dy))
    return {"x": x, "dy": dy, "y": y, "dx": dx}


def main() -> None:
    import tensorflow.compat.v1 as tf  # here, so that pytest's doctest collection can import this file
    tf.disable_eager_execution()
    rng = np.random.default_rng(2016)
    cases = {}
    for padding, strides, dilations in CONV:
        cases[f"conv2d-{padding}-s{strides[0]}{strides[1]}-d{dilations[0]}{dilations[1]}"] = conv_case(
            tf, rng, padding, strides, dilations)
    for name, op in (("max_pool", tf.nn.max_pool), ("avg_pool", tf.nn.avg_pool)):
        for padding, ksize, strides in POOL:
            cases[f"{name}-{padding}-k{ksize[0]}{ksize[1]}-s{strides[0]}{strides[1]}"] = pool_case(
                tf, rng, op, padding, ksize, strides)
    with tf.Session() as sess:
        arrays = {f"{case}/{key}": sess.run(value) if isinstance(value, tf.Tensor) else value
                  for case, values in cases.items() for key, value in values.items()}
    np.savez_compressed(OUT, **arrays)
    print(f"wrote {len(cases)} cases to {OUT}")


if __name__ == "__main__":
    main()
