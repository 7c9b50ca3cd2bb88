"""Every pipeline of the library ends prefetched with tf.data's autotuning
off (on a CPU that also trains, autotuning roughly halves the step rate;
`benchmarks/bench_autotuning.py` measures it)."""

import numpy as np
import tensorflow as tf

from sdl_keras.data import ViewAugmentation, images, text
from sdl_keras.data.prefetching import prefetched
from sdl_keras.tabular_task import TabularTask
from sdl_keras.two_stage import Split


def test_every_pipeline_ends_without_autotuning(rng):
    labels = (rng.random((12, 4)) < 0.4).astype("float32")
    texts = [f"note {i} about fever and cough {i % 3}" for i in range(12)]
    pixels = rng.integers(0, 256, size=(12, 16, 16, 3), dtype="uint8")
    vectors = rng.normal(size=(12, 5)).astype("float32")
    made = {
        "images, two views": images.image_dataset(
            pixels, labels, (16, 16), 4, 2, ViewAugmentation(3, seed=0)
        ),
        "images": images.image_dataset(pixels, labels, (16, 16), 4),
        "tokens": text.text_dataset(
            texts, labels, text.vectorization_tokenizer(texts, 50), 8, 4
        ),
        "bag of words": text.bag_of_words_dataset(
            texts, labels, text.bag_of_words_tokenizer(texts, 50), 4
        ),
        "vectors": TabularTask.build(vectors).make_dataset(
            Split(vectors, labels), "train", 0
        ),
    }
    for name, dataset in made.items():
        assert dataset.options().autotune.enabled is False, name
        seen = np.concatenate([np.asarray(y) for _, y in dataset])
        np.testing.assert_array_equal(np.sort(seen, 0), np.sort(labels, 0), name)


def test_autotuning_can_be_turned_back_on():
    dataset = prefetched(tf.data.Dataset.range(6)).map(lambda x: x * 2)
    assert dataset.options().autotune.enabled is False
    options = tf.data.Options()
    options.autotune.enabled = True
    tuned = dataset.with_options(options)
    assert tuned.options().autotune.enabled is True
    assert list(tuned.as_numpy_iterator()) == [0, 2, 4, 6, 8, 10]
