"""A generative adversarial network (after aymericdamien gan.py): glorot_init via tf.random_normal with
stddev 1 / tf.sqrt(shape[0] / 2.), separate var_lists for generator and discriminator, two Adam
optimizers; on the digits. The same seed gives the same losses, and the losses stay finite."""
import numpy as np
from _data import Batches, digits

import engine as tf


def train_gan(seed, num_steps=60):
    tf.reset_default_graph()
    tf.set_random_seed(seed)
    x_train, _, _, _ = digits()
    batch_size, learning_rate = 64, 0.002
    image_dim, gen_hidden_dim, disc_hidden_dim, noise_dim = 64, 32, 32, 8

    def glorot_init(shape):
        return tf.random_normal(shape=shape, stddev=1. / tf.sqrt(shape[0] / 2.))

    weights = {
        'gen_hidden1': tf.Variable(glorot_init([noise_dim, gen_hidden_dim])),
        'gen_out': tf.Variable(glorot_init([gen_hidden_dim, image_dim])),
        'disc_hidden1': tf.Variable(glorot_init([image_dim, disc_hidden_dim])),
        'disc_out': tf.Variable(glorot_init([disc_hidden_dim, 1])),
    }
    biases = {
        'gen_hidden1': tf.Variable(tf.zeros([gen_hidden_dim])),
        'gen_out': tf.Variable(tf.zeros([image_dim])),
        'disc_hidden1': tf.Variable(tf.zeros([disc_hidden_dim])),
        'disc_out': tf.Variable(tf.zeros([1])),
    }

    def generator(x):
        hidden_layer = tf.nn.relu(tf.add(tf.matmul(x, weights['gen_hidden1']), biases['gen_hidden1']))
        return tf.nn.sigmoid(tf.add(tf.matmul(hidden_layer, weights['gen_out']), biases['gen_out']))

    def discriminator(x):
        hidden_layer = tf.nn.relu(tf.add(tf.matmul(x, weights['disc_hidden1']), biases['disc_hidden1']))
        return tf.nn.sigmoid(tf.add(tf.matmul(hidden_layer, weights['disc_out']), biases['disc_out']))

    gen_input = tf.placeholder(tf.float32, shape=[None, noise_dim], name='input_noise')
    disc_input = tf.placeholder(tf.float32, shape=[None, image_dim], name='disc_input')
    gen_sample = generator(gen_input)
    disc_real = discriminator(disc_input)
    disc_fake = discriminator(gen_sample)
    gen_loss = -tf.reduce_mean(tf.log(disc_fake + 1e-8))
    disc_loss = -tf.reduce_mean(tf.log(disc_real + 1e-8) + tf.log(1. - disc_fake + 1e-8))
    optimizer_gen = tf.train.AdamOptimizer(learning_rate=learning_rate)
    optimizer_disc = tf.train.AdamOptimizer(learning_rate=learning_rate)
    gen_vars = [weights['gen_hidden1'], weights['gen_out'], biases['gen_hidden1'], biases['gen_out']]
    disc_vars = [weights['disc_hidden1'], weights['disc_out'], biases['disc_hidden1'], biases['disc_out']]
    train_gen = optimizer_gen.minimize(gen_loss, var_list=gen_vars)
    train_disc = optimizer_disc.minimize(disc_loss, var_list=disc_vars)
    noise = tf.random_uniform([batch_size, noise_dim], -1., 1.)
    init = tf.global_variables_initializer()

    batches = Batches(x_train, x_train, seed=seed)
    with tf.Session() as sess:
        sess.run(init)
        for i in range(1, num_steps + 1):
            batch_x, _ = batches.next_batch(batch_size)
            z = sess.run(noise)
            _, _, gl, dl = sess.run([train_gen, train_disc, gen_loss, disc_loss],
                                    feed_dict={disc_input: batch_x, gen_input: z})
        samples = sess.run(gen_sample, feed_dict={gen_input: np.zeros((4, noise_dim), np.float32)})
    return gl, dl, samples


first = train_gan(seed=3)
again = train_gan(seed=3)
other = train_gan(seed=4)
assert first[0] == again[0] and first[1] == again[1]
assert first[0] != other[0]
assert np.isfinite([first[0], first[1]]).all() and first[2].shape == (4, 64)
assert (first[2] >= 0).all() and (first[2] <= 1).all()
