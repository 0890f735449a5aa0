"""Nearest neighbour with L1 distance and tf.arg_min (after aymericdamien nearest_neighbor.py),
checked against scikit-learn's 1-NN with the manhattan metric."""
import numpy as np
from _data import digits
from sklearn.neighbors import KNeighborsClassifier

import engine as tf

Xtr, Ytr, Xte, Yte = digits()
Xte, Yte = Xte[:120], Yte[:120]
xtr = tf.placeholder("float", [None, 64])
xte = tf.placeholder("float", [64])
distance = tf.reduce_sum(tf.abs(tf.add(xtr, tf.negative(xte))), reduction_indices=1)
pred = tf.arg_min(distance, 0)
accuracy = 0.
init = tf.global_variables_initializer()
predictions = []
with tf.Session() as sess:
    sess.run(init)
    for i in range(len(Xte)):
        nn_index = sess.run(pred, feed_dict={xtr: Xtr, xte: Xte[i, :]})
        predictions.append(np.argmax(Ytr[nn_index]))
        if np.argmax(Ytr[nn_index]) == np.argmax(Yte[i]):
            accuracy += 1. / len(Xte)
reference = KNeighborsClassifier(n_neighbors=1, metric="manhattan", algorithm="brute").fit(Xtr, Ytr.argmax(1))
assert predictions == list(reference.predict(Xte))
assert accuracy > 0.95
