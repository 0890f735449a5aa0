"""A variational autoencoder (after aymericdamien variational_autoencoder.py): the reparameterisation
z = mean + exp(std / 2) * epsilon with epsilon = tf.random_normal(tf.shape(z_std)), a KL term,
RMSProp; the loss falls and the decoder maps codes to pixel probabilities."""
import numpy as np
from _data import Batches, digits

import engine as tf

tf.set_random_seed(0)
x_train, _, x_test, _ = digits()
learning_rate, num_steps, batch_size = 0.005, 300, 64
image_dim, hidden_dim, latent_dim = 64, 64, 2


def glorot_init(shape):
    return tf.random_normal(shape=shape, stddev=1. / tf.sqrt(shape[0] / 2.))


weights = {
    'encoder_h1': tf.Variable(glorot_init([image_dim, hidden_dim])),
    'z_mean': tf.Variable(glorot_init([hidden_dim, latent_dim])),
    'z_std': tf.Variable(glorot_init([hidden_dim, latent_dim])),
    'decoder_h1': tf.Variable(glorot_init([latent_dim, hidden_dim])),
    'decoder_out': tf.Variable(glorot_init([hidden_dim, image_dim])),
}
biases = {
    'encoder_b1': tf.Variable(glorot_init([hidden_dim])),
    'z_mean': tf.Variable(glorot_init([latent_dim])),
    'z_std': tf.Variable(glorot_init([latent_dim])),
    'decoder_b1': tf.Variable(glorot_init([hidden_dim])),
    'decoder_out': tf.Variable(glorot_init([image_dim])),
}

input_image = tf.placeholder(tf.float32, shape=[None, image_dim])
encoder = tf.nn.tanh(tf.matmul(input_image, weights['encoder_h1']) + biases['encoder_b1'])
z_mean = tf.matmul(encoder, weights['z_mean']) + biases['z_mean']
z_std = tf.matmul(encoder, weights['z_std']) + biases['z_std']
eps = tf.random_normal(tf.shape(z_std), dtype=tf.float32, mean=0., stddev=1.0, name='epsilon')
z = z_mean + tf.exp(z_std / 2) * eps
decoder = tf.nn.tanh(tf.matmul(z, weights['decoder_h1']) + biases['decoder_b1'])
decoder = tf.nn.sigmoid(tf.matmul(decoder, weights['decoder_out']) + biases['decoder_out'])


def vae_loss(x_reconstructed, x_true):
    encode_decode_loss = x_true * tf.log(1e-10 + x_reconstructed) + (1 - x_true) * tf.log(1e-10 + 1 - x_reconstructed)
    encode_decode_loss = -tf.reduce_sum(encode_decode_loss, 1)
    kl_div_loss = 1 + z_std - tf.square(z_mean) - tf.exp(z_std)
    kl_div_loss = -0.5 * tf.reduce_sum(kl_div_loss, 1)
    return tf.reduce_mean(encode_decode_loss + kl_div_loss)


loss_op = vae_loss(decoder, input_image)
train_op = tf.train.RMSPropOptimizer(learning_rate=learning_rate).minimize(loss_op)
init = tf.global_variables_initializer()

batches = Batches(x_train, x_train)
with tf.Session() as sess:
    sess.run(init)
    first = sess.run(loss_op, feed_dict={input_image: x_test})
    for i in range(1, num_steps + 1):
        batch_x, _ = batches.next_batch(batch_size)
        sess.run(train_op, feed_dict={input_image: batch_x})
    last = sess.run(loss_op, feed_dict={input_image: x_test})
    noise_input = tf.placeholder(tf.float32, shape=[None, latent_dim])
    decoded = sess.run(decoder, feed_dict={z: np.zeros((3, latent_dim), np.float32)})
assert last < 0.7 * first, (first, last)
assert decoded.shape == (3, image_dim) and ((decoded > 0) & (decoded < 1)).all()
