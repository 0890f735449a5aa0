"""Images in DataFrames: decoding Spark's image structs (numpy, no Spark),
the image data source through tfs.image_column, numpy images through
tfs.images_frame, and a convnet trained by tfs.train over an image DataFrame
(equal to single-process training) and scored by map_blocks."""

from __future__ import annotations

import re

import numpy as np
import pyarrow as pa
import pytest
from PIL import Image

import engine as tf
import tensorframes as tfs
from tensorframes.schema import column_spec
from tensorframes.errors import ColumnTypeError, NullValueError, ShapeMismatchError
from tensorframes.images import IMAGE_FIELDS, convert_channels, decode_images, resize_bilinear

RNG = np.random.default_rng(11)
RGB = RNG.integers(0, 256, (4, 5, 6, 3), dtype=np.uint8)


def structs(images, origins=None, sizes=None):
    """Image-source structs (BGR bytes, as Spark stores them) for uint8 RGB or gray images."""
    origins = origins or [f"file:/img{i}.png" for i in range(len(images))]
    rows = []
    for origin, img in zip(origins, images):
        bgr = img[..., ::-1] if img.shape[-1] == 3 else img
        rows.append({"origin": origin, "height": img.shape[0], "width": img.shape[1], "nChannels": img.shape[2],
                     "mode": 16 if img.shape[2] == 3 else 0, "data": bgr.tobytes()})
    t = pa.struct([("origin", pa.string()), ("height", pa.int32()), ("width", pa.int32()), ("nChannels", pa.int32()),
                   ("mode", pa.int32()), ("data", pa.binary())])
    return pa.array(rows, type=t)


def decode(array, **kw):
    options = {"name": "image", "size": None, "channels": None, "dtype": np.dtype(np.float32), "scale": 1 / 255,
               "rgb": True, **kw}
    return decode_images(array, **options)


# -- decoding (executor side) ----------------------------------------------------------------
def test_decode_gives_rgb_floats_scaled_and_float32():
    out = decode(structs(RGB))
    assert out.dtype == np.float32 and out.shape == (4, 5, 6, 3)
    np.testing.assert_allclose(out, RGB / 255, rtol=1e-6)


def test_decode_keeps_bgr_when_asked():
    np.testing.assert_array_equal(decode(structs(RGB), rgb=False, scale=1.0), RGB[..., ::-1])


def test_decode_of_a_sliced_batch_reads_its_own_rows():
    np.testing.assert_allclose(decode(structs(RGB).slice(1, 2)), RGB[1:3] / 255, rtol=1e-6)


def test_decode_of_mixed_sizes_names_the_row_and_its_file():
    images = list(RGB[:2]) + [RNG.integers(0, 256, (7, 6, 3), dtype=np.uint8)]
    with pytest.raises(ShapeMismatchError, match=re.escape(
            "column 'image': images differ in size: row 12 ('file:/img2.png') is 7x6 with 3 channel(s), expected "
            "5x6 with 3 channel(s); pass size=(height, width) to resize")) as e:
        decode(structs(images), first_row=10)
    assert (e.value.column, e.value.row) == ("image", 12)


def test_decode_resizes_and_converts_each_size_group():
    images = [RGB[0], RNG.integers(0, 256, (10, 12, 3), dtype=np.uint8)]
    out = decode(structs(images), size=(5, 6), channels=1, scale=1.0, dtype=np.dtype(np.float64))
    np.testing.assert_allclose(out[0, ..., 0], RGB[0] @ [0.299, 0.587, 0.114])
    np.testing.assert_allclose(out[1], resize_bilinear(convert_channels(images[1][None] * 1.0, 1), (5, 6))[0])


def test_decode_refuses_unreadable_images():
    bad = structs(RGB[:2]).to_pylist()
    bad[1].update(height=-1, width=-1, nChannels=-1, data=b"")
    with pytest.raises(NullValueError, match=re.escape("row 1 ('file:/img1.png') is not a readable image")):
        decode(pa.array(bad, type=structs(RGB[:1]).type))


def test_resize_bilinear_upscaling_matches_pillow():
    gray = RNG.integers(0, 256, (6, 5), dtype=np.uint8)
    want = np.asarray(Image.fromarray(gray.astype(np.float32), mode="F").resize((11, 13), Image.BILINEAR))
    got = resize_bilinear(gray[None, :, :, None].astype(np.float64), (13, 11))[0, :, :, 0]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-3)


def test_channel_conversions():
    rgba = RNG.uniform(size=(2, 3, 3, 4))
    assert convert_channels(rgba, 3).shape == (2, 3, 3, 3)
    np.testing.assert_array_equal(convert_channels(rgba[..., :1], 3), np.repeat(rgba[..., :1], 3, axis=-1))


# -- the image data source -----------------------------------------------------------------
@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("images")
    for i, img in enumerate(RGB):
        Image.fromarray(img).save(folder / f"rgb{i}.png")
    return folder


def _by_origin(df, col="image"):
    rows = df.select("origin", col).collect()
    return {r.origin.rsplit("/", 1)[-1]: np.array(r[col]) for r in rows}


def test_image_source_column_becomes_a_shaped_float_array_column(spark, image_dir):
    raw = spark.read.format("image").load(str(image_dir))
    df = tfs.image_column(raw.select("image", raw.image.origin.alias("origin")))
    assert column_spec(df, "image").cell_shape == (5, 6, 3)
    got = _by_origin(df)
    for i, img in enumerate(RGB):
        np.testing.assert_allclose(got[f"rgb{i}.png"], img / 255, rtol=1e-6)
    assert tfs.image_block(df).shape.dims == (None, 5, 6, 3)


def test_image_source_of_mixed_sizes_fails_before_converting_naming_two_files(spark, image_dir, tmp_path):
    for name in image_dir.iterdir():
        (tmp_path / name.name).write_bytes(name.read_bytes())
    Image.fromarray(RNG.integers(0, 256, (3, 3), dtype=np.uint8)).save(tmp_path / "gray.png")
    raw = spark.read.format("image").load(str(tmp_path))
    with pytest.raises(ShapeMismatchError, match=r"column 'image': images differ in size: '.*(gray|rgb\d)\.png' is "
                                                 r"\d+x\d+ with \d channel\(s\) but '.*\.png' is"):
        tfs.image_column(raw)
    resized = tfs.image_column(raw.select("image", raw.image.origin.alias("origin")), size=(5, 6), channels=1)
    got = _by_origin(resized)
    assert got["gray.png"].shape == (5, 6, 1)
    np.testing.assert_allclose(got["rgb0.png"][..., 0], RGB[0] @ [0.299, 0.587, 0.114] / 255, rtol=1e-5)


def test_image_block_of_an_unconverted_struct_column_says_what_to_do(spark, image_dir):
    raw = spark.read.format("image").load(str(image_dir))
    with pytest.raises(ColumnTypeError, match=re.escape("holds Spark image structs: convert it first")):
        tfs.image_block(raw)
    with pytest.raises(ColumnTypeError, match=re.escape("expected the struct of Spark's image data source")):
        tfs.image_column(raw.select(raw.image.height.alias("image")))


# -- a convnet over an image DataFrame -------------------------------------------------------
def _digits(n):
    from sklearn.datasets import load_digits
    digits = load_digits()
    return (digits.images[:n] / 16.0)[..., None], digits.target[:n].astype(np.int64)


class ConvNet:
    """conv(4, 3x3, SAME) -> relu -> 2x2 max pool -> dense(10): its own graph and session."""

    def __init__(self, inputs):
        self.graph = tf.Graph()
        with self.graph.as_default():
            self.x, self.y = inputs()
            rng = np.random.default_rng(0)
            self.kernel = tf.Variable(rng.normal(0, 0.3, (3, 3, 1, 4)), name="kernel")
            self.dense = tf.Variable(rng.normal(0, 0.1, (64, 10)), name="dense")
            h = tf.nn.max_pool(tf.nn.relu(tf.nn.conv2d(self.x, self.kernel, 1, "SAME")), 2, 2, "SAME")
            self.logits = tf.matmul(tf.reshape(h, [-1, 64]), self.dense)
            self.loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=self.y,
                                                                                     logits=self.logits))
            self.classes = tf.argmax(self.logits, 1, name="classes")
            self.session = tf.Session(self.graph)
            self.session.run(tf.global_variables_initializer())

    def values(self):
        return self.session.run({"kernel": self.kernel, "dense": self.dense})


@pytest.fixture(scope="module")
def digits_frame(spark):
    x, y = _digits(60)
    return tfs.images_frame(spark, x, label=y, num_partitions=2), x, y


def _spark_convnet(df):
    return ConvNet(lambda: (tfs.image_block(df, "image"), tfs.block(df, "label")))


def _local_convnet(x, y, steps):
    net = ConvNet(lambda: (tf.placeholder(tf.float64, (None, 8, 8, 1)), tf.placeholder(tf.int64, (None,))))
    with net.graph.as_default():
        step = tf.train.AdamOptimizer(0.05).minimize(net.loss)
        net.session.run(tf.variables_initializer([v for v in tf.global_variables() if v.op.name not in
                                                  ("kernel", "dense")]))
    for _ in range(steps):
        net.session.run(step, {net.x: x, net.y: y})
    return net


@pytest.mark.parametrize("mode", ["barrier", "driver"])
def test_tfs_train_of_a_convnet_over_images_equals_single_process_training(digits_frame, mode):
    df, x, y = digits_frame
    net = _spark_convnet(df)
    tfs.train(net.loss, df, tf.train.AdamOptimizer(0.05), steps=4, mode=mode, session=net.session)
    want = _local_convnet(x, y, 4).values()
    for name, value in net.values().items():
        np.testing.assert_allclose(value, want[name], rtol=1e-9, atol=1e-12, err_msg=name)


def test_map_blocks_scores_the_trained_convnet_as_the_session_does(digits_frame):
    df, x, _ = digits_frame
    net = _spark_convnet(df)
    with net.graph.as_default():
        with net.session.as_default():
            scored = tfs.map_blocks(net.classes, df.select("image"))
            got = np.array([r.classes for r in scored.collect()])
    want = net.session.run(net.classes, {net.x: np.array([np.array(r.image) for r in df.select("image").collect()])})
    np.testing.assert_array_equal(got, want)


def test_a_saved_sequential_convnet_scores_images_in_a_GraphModel_stage(spark, tmp_path):
    from engine.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
    from engine.models import Sequential
    from engine.saved_model import load
    from tensorframes.ml import GraphModel
    x, y = _digits(40)
    x = x.astype(np.float32)
    model = Sequential([Conv2D(4, 3, padding="same", activation="relu"), MaxPooling2D(2), Flatten(), Dropout(0.2),
                        Dense(10, activation="softmax")], seed=1)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(x, y, epochs=2, batch_size=20, verbose=0)
    model.save(str(tmp_path / "convnet"))
    saved = load(str(tmp_path / "convnet"))
    stage = GraphModel(graphDef=saved.graph_def, inputMapping={"image": saved.signature.inputs["inputs"].tensor},
                       outputMapping={saved.signature.outputs["outputs"].tensor: "probabilities"})
    df = tfs.images_frame(spark, x, id=np.arange(len(x)))
    rows = sorted(stage.transform(df).select("id", "probabilities").collect())
    np.testing.assert_array_equal([np.argmax(r.probabilities) for r in rows], model.predict(x).argmax(axis=1))
