"""`tf.summary`: summaries of a graph's values and the event files TensorBoard reads.

Build summary ops (`scalar`, `histogram`), merge them (`merge`,
`merge_all`), run them, and write what they return with a `FileWriter`::

    tf.summary.scalar("loss", loss)
    merged = tf.summary.merge_all()
    writer = tf.summary.FileWriter("logs/run1", sess.graph)
    writer.add_summary(sess.run(merged, feed), step)
    writer.close()

Then `tensorboard --logdir logs`. TensorFlow's message definitions come from
the `tensorboard` package (the `[tf]` extra), imported on first write.
"""
from ..ops.summary import SUMMARIES, histogram, merge, merge_all, scalar
from .writer import FileWriter, summary_iterator

__all__ = ["scalar", "histogram", "merge", "merge_all", "FileWriter", "summary_iterator", "SUMMARIES"]
