"""The official mnist_softmax.py structure: argparse FLAGS, main(_), tf.app.run(main=main, argv=...),
an InteractiveSession, tf.global_variables_initializer().run(), softmax_cross_entropy_with_logits;
on the digits instead of MNIST."""
import argparse
import sys

from _data import Batches, digits

import engine as tf

FLAGS = None


def main(_):
    x_train, y_train, x_test, y_test = digits()
    assert FLAGS.data_dir == "/tmp/tensorflow/mnist/input_data"
    x = tf.placeholder(tf.float32, [None, 64])
    W = tf.Variable(tf.zeros([64, 10]))
    b = tf.Variable(tf.zeros([10]))
    y = tf.matmul(x, W) + b
    y_ = tf.placeholder(tf.float32, [None, 10])
    cross_entropy = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y_, logits=y))
    train_step = tf.train.GradientDescentOptimizer(0.5).minimize(cross_entropy)

    sess = tf.InteractiveSession()
    tf.global_variables_initializer().run()
    batches = Batches(x_train, y_train)
    for _ in range(FLAGS.steps):
        batch_xs, batch_ys = batches.next_batch(100)
        sess.run(train_step, feed_dict={x: batch_xs, y_: batch_ys})
    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(y_, 1))
    accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    result = sess.run(accuracy, feed_dict={x: x_test, y_: y_test})
    sess.close()
    assert result > 0.93, result


if __name__ == '__main__':
    parser = argparse.ArgumentParser()
    parser.add_argument('--data_dir', type=str, default='/tmp/tensorflow/mnist/input_data',
                        help='Directory for storing input data')
    parser.add_argument('--steps', type=int, default=300)
    FLAGS, unparsed = parser.parse_known_args()
    tf.app.run(main=main, argv=[sys.argv[0]] + unparsed)
