"""tensorframes: dataflow graphs (``engine``) run over Spark DataFrames via Arrow.

Build a graph as in TensorFlow 1.x (``import engine as tf``) whose
placeholders stand for DataFrame columns, then run it over the DataFrame::

    import engine as tf
    import tensorframes as tfs

    with tf.Graph().as_default():
        x = tfs.block(df, "x")
        z = tf.add(x, 3.0, name="z")
        df2 = tfs.map_blocks(z, df)      # df plus a column z

Operations
----------
Placeholders and shapes:

- ``block(df, col, tf_name=None)``: a placeholder for a block of rows of
  column ``col``; dtype from the column, shape ``(None,) + cell shape``.
- ``row(df, col, tf_name=None)``: a placeholder for one cell of ``col``.
- ``analyze(df)``: finds the shapes of array and vector columns (one job) and
  records them in the column metadata.
- ``append_shape(df, col, shape)``: records a shape you know, without a job.
- ``print_schema(df)``: dtype and shape per column (``y: array double[?,2]``).

Images (see :mod:`tensorframes.images`):

- ``image_column(df, "image", size=None, channels=None)``: Spark's image
  data source struct column as a float (height, width, channels) array
  column with its shape in the metadata (optional resize, gray <-> RGB).
- ``images_frame(spark, images, **columns)``: a DataFrame from numpy images.
- ``image_block(df, "image")``: the (None, h, w, c) placeholder of one.

Transformations (lazy; a pandas DataFrame is computed at once, locally):

- ``map_blocks(fetches, df, feed_dict=None, trim=False)``: runs the graph on
  blocks of rows, appends one column per fetch, named after its op;
  ``trim=True`` returns only the fetches (the row count may change).
- ``map_rows(fetches, df, feed_dict=None)``: the graph is written for one
  row and runs vectorized over blocks through the ops' batching rules.

Reductions (run a job; return numpy values, a list for several fetches):

- ``reduce_blocks(fetches, df)``: fetch ``x`` reduces a block fed to
  placeholder ``x_input`` from column ``x``.
- ``reduce_rows(fetches, df)``: fetch ``x`` combines two rows fed to
  placeholders ``x_1`` and ``x_2``.
- ``aggregate(fetches, df.groupBy(...))``: ``reduce_blocks`` per group; a
  DataFrame of keys and fetches (lazy).

Backends: every entry point above takes ``backend="auto" | "sql" | "arrow"``;
``explain(fetches, df, kind="map_blocks")`` says which would run and why
(see :mod:`tensorframes.sql`).

Training (runs jobs; the session's variables end up trained):

- ``train(loss, df, optimizer, feed_dict=None, steps=, epochs=, batch_size=,
  mode="barrier" | "driver", ...)``: minimizes a loss that is a mean over
  the rows by synchronous gradient averaging (exact: the same steps as
  single-process training on all rows); returns a ``TrainResult``.

``feed_dict`` binds placeholders to other columns (``{placeholder: column}``);
reductions also take ``inputs={fetch: placeholder}`` to pair a fetch with
an input that doesn't follow the naming convention. Variables are shipped
with their current values in the default session (``with tf.Session():``)
or the ``session=`` argument. ``get_spark()`` starts a local session set up
for tensorframes. Errors found in the schema are raised before any job; see
:mod:`tensorframes.errors`.
"""

from tensorframes.images import image_block, image_column, images_frame
from tensorframes.map_ops import map_blocks, map_rows
from tensorframes.placeholders import block, row
from tensorframes.reduce_ops import aggregate, reduce_blocks, reduce_rows
from tensorframes.schema import analyze, append_shape, print_schema
from tensorframes.spark import get_spark
from tensorframes.sql import explain
from tensorframes.training import Deadlines, TrainResult, train

__all__ = [
    "block", "row", "analyze", "append_shape", "print_schema",
    "map_blocks", "map_rows", "reduce_blocks", "reduce_rows", "aggregate", "get_spark",
    "train", "TrainResult", "Deadlines", "image_column", "image_block", "images_frame", "explain",
]
