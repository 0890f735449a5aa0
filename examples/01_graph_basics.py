"""What a dataflow graph is: the talk's first notebook.

Builders like ``tf.constant`` don't compute anything: they add operations to
the default graph. A Session runs the part of the graph a fetch needs, and
tensorframes runs the same graph over a Spark DataFrame.

    python examples/01_graph_basics.py [--master URL]
"""
from __future__ import annotations

import numpy as np
import pandas as pd

import _common
import engine as tf
import tensorframes as tfs
from engine.visualize import to_mermaid


def main() -> None:
    args = _common.parse_args(__doc__)

    # The default graph starts empty; every builder call adds one operation.
    tf.reset_default_graph()
    graph = tf.get_default_graph()
    print("operations at the start:", graph.get_operations())
    tf.constant(1.0, name="first_constant")
    print("operations after tf.constant:", graph.get_operations())
    print("\nits node_def, what the graph holds about it:")
    print(graph.get_operation_by_name("first_constant").node_def)

    # The talk's model: the price of a house from its size, price = w * size + b.
    size = tf.placeholder(tf.float64, [None], name="size")  # None: any number of houses
    w = tf.Variable(np.float64(1000.0), name="w")
    b = tf.Variable(np.float64(100.0), name="b")
    price = tf.add(w * size, b, name="price")

    operations = graph.get_operations()
    _common.print_table("the default graph", ["name", "type", "inputs", "output"],
                        [(op.name, op.type, ", ".join(t.name for t in op.inputs) or "-",
                          ", ".join(f"{t.dtype.name} {t.shape}" for t in op.outputs) or "-")
                         for op in operations])
    print("\nthe graph as a Mermaid diagram (paste into https://mermaid.live or a ```mermaid block):\n")
    print(to_mermaid(graph))

    sizes = np.array([90.0, 120.0, 150.0])
    with tf.Session() as sess:
        sess.run(tf.global_variables_initializer())
        # Only size -> Mul -> price runs: first_constant isn't needed for the fetch.
        local = sess.run(price, {size: sizes})
        # The same graph over a DataFrame: placeholder "size" reads column "size",
        # the variables travel with their current values.
        spark = _common.start_spark(args, "01_graph_basics")
        df = spark.createDataFrame(pd.DataFrame({"size": sizes}))
        on_spark = tfs.map_blocks(price, df).toPandas()

    _common.print_table("price = 1000 * size + 100, in a Session and on Spark", ["size (m²)", "Session", "Spark"],
                        [(s, p, q) for s, p, q in zip(sizes, local, on_spark["price"])])
    _common.print_result(operations=len(operations), prices=local,
                         spark_prices=on_spark["price"].to_numpy())


if __name__ == "__main__":
    main()
