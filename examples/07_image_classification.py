"""Image classification with a small convnet, trained on Spark: handwritten digits.

scikit-learn's 1,797 handwritten digits (8x8 gray images, ten classes) go
into a DataFrame as an image column (height, width, channels) with its shape
in the column metadata. A small convolutional network (conv, pool, conv,
pool, dense, dropout) is trained over it by tfs.train and scores the
held-out images with map_blocks; beside it, a dense network with the same
number of parameters (also by tfs.train) and Spark MLlib's
MultilayerPerceptronClassifier, on the same split. ``--augment N`` adds N
randomly shifted copies of each training image (the "very little data"
recipe). A few digits are also written as PNG files, one folder per class,
read back through Spark's image data source (``spark.read.format("image")``
and tfs.image_column) and scored the same way; ``--images DIR`` runs the
whole example on any folder of images laid out like that instead.

    python examples/07_image_classification.py [--epochs 50] [--augment 0] [--images DIR --size 32]
"""
from __future__ import annotations

import math
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image
from pyspark.ml.classification import MultilayerPerceptronClassifier
from pyspark.ml.functions import array_to_vector
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F

import _common
import engine as tf
import tensorframes as tfs
from engine.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D


# -- data ------------------------------------------------------------------------------------
def digits() -> tuple[np.ndarray, np.ndarray, list[str]]:
    """The 1,797 digits as float32 images in [0, 1], shape (n, 8, 8, 1), and their labels."""
    from sklearn.datasets import load_digits
    data = load_digits()
    return (data.images / 16.0).astype(np.float32)[..., None], data.target.astype(np.int64), \
        [str(c) for c in data.target_names]


def write_pngs(images: np.ndarray, labels: np.ndarray, folder: Path) -> None:
    """One 8-bit gray PNG per image, in a sub-folder named after its class."""
    for i, (image, label) in enumerate(zip(images, labels)):
        (folder / str(label)).mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.round(image[..., 0] * 255).astype(np.uint8)).save(folder / str(label) / f"{i}.png")


def read_folder(spark: SparkSession, folder: str, size: int | None, channels: int | None,
                classes: list[str] | None = None) -> tuple[DataFrame, list[str]]:
    """Spark's image data source over ``folder``/<class>/*: columns image (tfs.image_column) and label."""
    raw = spark.read.format("image").option("recursiveFileLookup", "true").load(folder)
    raw = raw.withColumn("class", F.element_at(F.split(raw.image.origin, "/"), -2))
    classes = classes or sorted(r[0] for r in raw.select("class").distinct().collect())
    label = F.array_position(F.array(*[F.lit(c) for c in classes]), F.col("class")).cast("long") - 1
    df = tfs.image_column(raw.withColumn("label", label), "image",
                          size=None if size is None else (size, size), channels=channels)
    return df.select("image", "label"), classes


def split(n: int, labels: np.ndarray, test_fraction: float = 0.2) -> tuple[np.ndarray, np.ndarray]:
    """Training and held-out row indices, stratified by class, seeded."""
    rng = np.random.default_rng(0)
    test = np.concatenate([rng.permutation(np.flatnonzero(labels == c))[:round(test_fraction * (labels == c).sum())]
                           for c in np.unique(labels)])
    return np.setdiff1d(np.arange(n), test), np.sort(test)


def shifted(images: np.ndarray, copies: int, seed: int = 1) -> np.ndarray:
    """``copies`` versions of each image moved by -1, 0 or 1 pixel along each axis (zeros enter)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(copies):
        moves = rng.integers(-1, 2, (len(images), 2))
        padded = np.pad(images, ((0, 0), (1, 1), (1, 1), (0, 0)))
        h, w = images.shape[1:3]
        rows = (np.arange(h)[None, :] + 1 - moves[:, :1])[:, :, None]
        cols = (np.arange(w)[None, :] + 1 - moves[:, 1:])[:, None, :]
        out.append(padded[np.arange(len(images))[:, None, None], rows, cols])
    return np.concatenate(out) if out else images[:0]


# -- models ----------------------------------------------------------------------------------
class Network:
    """Layers applied twice on shared variables: in training mode (dropout on) for the loss,
    in inference mode for scoring, so the scoring graph holds no random ops."""

    def __init__(self, layers: list) -> None:
        self.layers = layers

    def __call__(self, x: tf.Tensor, training: bool) -> tf.Tensor:
        for layer in self.layers:
            x = layer(x, training=training) if getattr(layer, "uses_training", False) else layer(x)
        return x

    def parameters(self) -> int:
        return sum(math.prod(v.shape.as_list()) for layer in self.layers for v in getattr(layer, "variables", []))


def convnet(classes: int) -> Network:
    """conv 3x3 (16) - max pool - conv 3x3 (32) - max pool - dense 64 - dropout - dense (logits)."""
    return Network([Conv2D(16, 3, padding="same", activation="relu", seed=0), MaxPooling2D(2),
                    Conv2D(32, 3, padding="same", activation="relu", seed=1), MaxPooling2D(2), Flatten(),
                    Dense(64, activation="relu", seed=2), Dropout(0.3, seed=3), Dense(classes, seed=4)])


def dense_network(classes: int, inputs: int, parameters: int) -> Network:
    """One hidden layer of ReLUs, as wide as gives ``parameters`` weights in all."""
    hidden = max(1, round((parameters - classes) / (inputs + 1 + classes)))
    return Network([Flatten(), Dense(hidden, activation="relu", seed=0), Dropout(0.3, seed=1),
                    Dense(classes, seed=2)])


class Trained:
    """A network trained by tfs.train: its graph and session, and what training cost."""

    def __init__(self, network: Network, train: DataFrame, epochs: int, batch_size: int, mode: str) -> None:
        self.graph = tf.Graph()
        with self.graph.as_default():
            images, labels = tfs.image_block(train, "image"), tfs.block(train, "label")
            logits = network(images, training=True)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=labels, logits=logits))
            self.predicted = tf.argmax(network(images, training=False), 1, name="predicted")
            self.session = tf.Session(self.graph)
            self.session.run(tf.global_variables_initializer())
            start = time.perf_counter()
            tfs.train(loss, train, tf.train.AdamOptimizer(0.003), epochs=epochs, batch_size=batch_size, mode=mode,
                      log_every=None, session=self.session)
            self.seconds = time.perf_counter() - start
        self.parameters = network.parameters()

    def accuracy(self, images: DataFrame) -> float:
        """The share of ``images`` whose ``label`` the network predicts (scored by map_blocks)."""
        with self.graph.as_default(), self.session.as_default():
            return accuracy(tfs.map_blocks(self.predicted, images.select("image", "label")))


def accuracy(scored: DataFrame) -> float:
    return scored.agg(F.mean((F.col("predicted") == F.col("label")).cast("double"))).first()[0]


def mllib_mlp(train: DataFrame, test: DataFrame, inputs: int, classes: int, max_iter: int) -> tuple[float, int, float]:
    """MultilayerPerceptronClassifier (one hidden layer of 128 sigmoids, L-BFGS) on the flattened images."""
    def vectors(df: DataFrame) -> DataFrame:
        return df.select(array_to_vector(F.flatten(F.flatten(F.col("image")))).alias("features"),
                         F.col("label").cast("double").alias("label"))
    start = time.perf_counter()
    model = MultilayerPerceptronClassifier(layers=[inputs, 128, classes], maxIter=max_iter, seed=0).fit(vectors(train))
    seconds = time.perf_counter() - start
    scored = model.transform(vectors(test)).withColumnRenamed("prediction", "predicted")
    return accuracy(scored), inputs * 128 + 128 + 128 * classes + classes, seconds


def main() -> None:
    args = _common.parse_args(__doc__, epochs=(50, 2, "passes over the training images"),
                              batch_size=(64, 64, "images per training step (over all partitions)"),
                              augment=(2, 0, "randomly shifted copies of each training image to add"),
                              mllib_iter=(200, 20, "L-BFGS iterations of the MLlib baseline"),
                              rows=(0, 400, "use only this many images (0: all)"),
                              mode=("barrier", "barrier", "how tfs.train runs: barrier or driver"),
                              images=("", "", "a folder of images, one sub-folder per class (default: digits)"),
                              size=(32, 32, "--images: resize to size x size"))
    spark = _common.start_spark(args, "07_image_classification")
    scratch = Path(tempfile.mkdtemp(prefix="digits_png_"))
    if args.images:
        df, names = read_folder(spark, args.images, args.size, 1)
        rows = df.collect()
        x = np.array([np.asarray(r.image, np.float32) for r in rows])
        y = np.array([r.label for r in rows], np.int64)
    else:
        x, y, names = digits()
    if args.rows:
        x, y = x[:args.rows], y[:args.rows]
    train_rows, test_rows = split(len(x), y)
    x_train, y_train = x[train_rows], y[train_rows]
    if args.augment:
        x_train = np.concatenate([x_train, shifted(x_train, args.augment)])
        y_train = np.concatenate([y_train] + [y[train_rows]] * args.augment)
    slots = spark.sparkContext.defaultParallelism
    train = tfs.images_frame(spark, x_train, label=y_train, num_partitions=slots).cache()
    test = tfs.images_frame(spark, x[test_rows], label=y[test_rows]).cache()
    tfs.print_schema(train)

    classes = len(names)
    conv = Trained(convnet(classes), train, args.epochs, args.batch_size, args.mode)
    dense = Trained(dense_network(classes, math.prod(x.shape[1:]), conv.parameters), train, args.epochs,
                    args.batch_size, args.mode)
    runs = {name: (t.accuracy(test), t.parameters, t.seconds) for name, t in (("convnet", conv), ("dense", dense))}
    runs["mllib_mlp"] = mllib_mlp(train, test, math.prod(x.shape[1:]), classes, args.mllib_iter)

    png = {}
    if not args.images:  # the image data source path: a few held-out digits as PNG files, read by Spark
        few = test_rows[:50]
        write_pngs(x[few], y[few], scratch)
        images, _ = read_folder(spark, str(scratch), None, 1, names)
        png = {"files": len(few), "pixels_match": pngs_match(images, x[few], y[few]),
               "accuracy": conv.accuracy(images)}

    _common.print_table(f"held-out accuracy on {len(test_rows):,} images ({len(x_train):,} training images "
                        f"{'x'.join(map(str, x.shape[1:]))}, {args.epochs} epochs)",
                        ["model", "parameters", "accuracy", "seconds"],
                        [(name, p, a, s) for name, (a, p, s) in runs.items()])
    if png:
        print(f"\n{png['files']} held-out digits written as PNG files and read back by spark.read.format('image'): "
              f"pixels {'identical' if png['pixels_match'] else 'DIFFERENT'}, convnet accuracy {png['accuracy']:.4f}")
    _common.print_result(**{name: {"accuracy": a, "parameters": p, "seconds": s} for name, (a, p, s) in runs.items()},
                         png=png, classes=classes, train_images=len(x_train), test_images=len(test_rows))


def pngs_match(images: DataFrame, x: np.ndarray, y: np.ndarray) -> bool:
    """Whether Spark read back exactly the 8-bit pixels and labels written (in any file order)."""
    def keyed(pairs) -> list:
        return sorted((int(label), tuple(np.round(np.asarray(image) * 255).astype(int).ravel())) for image, label in pairs)
    return keyed((r.image, r.label) for r in images.collect()) == keyed(zip(x, y))


if __name__ == "__main__":
    main()
