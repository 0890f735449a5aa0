"""K-means with centroids initialised by tf.random_shuffle + tf.slice (the classic TF 1.x k-means),
assignments by expand_dims/argmin, updates by unsorted_segment_sum; checked against Lloyd's algorithm
in numpy from the same initial centroids, and the same program gives the same clusters every run."""
import numpy as np
from _data import digits

import engine as tf

x_train, y_train, _, _ = digits()
points = x_train[:600].astype(np.float64)
k, steps = 10, 15
tf.set_random_seed(42)

vectors = tf.constant(points)
centroids = tf.Variable(tf.slice(tf.random_shuffle(vectors), [0, 0], [k, -1]))
expanded_vectors = tf.expand_dims(vectors, 0)
expanded_centroids = tf.expand_dims(centroids, 1)
distances = tf.reduce_sum(tf.square(tf.subtract(expanded_vectors, expanded_centroids)), 2)
assignments = tf.argmin(distances, 0)
sums = tf.unsorted_segment_sum(vectors, assignments, k)
counts = tf.unsorted_segment_sum(tf.ones_like(vectors[:, :1]), assignments, k)
update_centroids = tf.assign(centroids, sums / tf.maximum(counts, 1.0))
init_op = tf.global_variables_initializer()

with tf.Session() as sess:
    sess.run(init_op)
    start = sess.run(centroids)
    for step in range(steps):
        _, centroid_values, assignment_values = sess.run([update_centroids, centroids, assignments])
    final = sess.run(centroids)

c = start.copy()
for step in range(steps):
    labels = ((points[None] - c[:, None]) ** 2).sum(2).argmin(0)
    c = np.stack([points[labels == j].mean(0) if (labels == j).any() else np.zeros(64) for j in range(k)])
np.testing.assert_allclose(final, c, rtol=1e-9, atol=1e-12)
assert len(np.unique(assignment_values)) == k

with tf.Session() as sess:  # the same program: the same initial centroids
    sess.run(init_op)
    np.testing.assert_array_equal(sess.run(centroids), start)
