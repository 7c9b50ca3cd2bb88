"""Text: label vocabulary, HPO task, tf.data pipeline, encoders."""

import json

import numpy as np
import pytest

from sdl_keras.data import LabelVocabulary

pytestmark = pytest.mark.tensorflow_only

OBO = """format-version: 1.2

[Term]
id: HP:0000001
name: All

[Term]
id: HP:0000118
name: Phenotypic abnormality
def: "A phenotypic abnormality." []
is_a: HP:0000001 ! All

[Term]
id: HP:0000100
name: Abnormality of the heart
def: "Heart anomaly." []
is_a: HP:0000118 ! Phenotypic abnormality

[Term]
id: HP:0000200
name: Abnormality of the eye
def: "Eye \\"quoted\\" anomaly." [PMID:1]
is_a: HP:0000118

[Term]
id: HP:0000101
name: Heart valve defect
def: "Valve." []
is_a: HP:0000100 ! Abnormality of the heart

[Term]
id: HP:0000300
name: Eye and heart
def: "Both." []
is_a: HP:0000101
is_a: HP:0000200

[Term]
id: HP:0000400
name: Old term
def: "Gone." []
is_obsolete: true
is_a: HP:0000100

[Term]
id: HP:0000500
name: No definition
is_a: HP:0000100
"""


@pytest.fixture
def obo(tmp_path):
    path = tmp_path / "hp.obo"
    path.write_text(OBO)
    return path


def test_label_vocabulary_round_trip(tmp_path):
    sets = [{"b", "a"}, {"a"}, {"c", "a"}, {"b"}]
    vocabulary = LabelVocabulary.from_label_sets(sets, names={"a": "Alpha"})
    assert vocabulary.codes == ["a", "b", "c"] and vocabulary.counts == [3, 2, 1]
    assert vocabulary.names == ["Alpha", "b", "c"]
    matrix = vocabulary.encode(sets)
    assert matrix.tolist() == [[1, 1, 0], [1, 0, 0], [1, 0, 1], [0, 1, 0]]
    assert [sorted(row) for row in vocabulary.decode(matrix)] == [
        sorted(s) for s in sets
    ]
    vocabulary.save(tmp_path / "labels.json")
    loaded = LabelVocabulary.load(tmp_path / "labels.json")
    assert loaded.get_config() == vocabulary.get_config()
    top = LabelVocabulary.from_label_sets(sets, max_labels=2)
    assert top.codes == ["a", "b"]
    assert top.encode([{"c", "a"}], unknown="ignore").tolist() == [[1.0, 0.0]]


def test_label_vocabulary_errors(tmp_path):
    with pytest.raises(ValueError, match="unique"):
        LabelVocabulary(["a", "a"])
    with pytest.raises(ValueError, match="one entry per code"):
        LabelVocabulary(["a", "b"], counts=[1])
    with pytest.raises(ValueError, match="Row 1: label 'z'"):
        LabelVocabulary(["a"]).encode([{"a"}, {"z"}])
    with pytest.raises(FileNotFoundError, match="No label vocabulary"):
        LabelVocabulary.load(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text(json.dumps({"codes": ["a"], "colour": 1}))
    with pytest.raises(ValueError, match="not a saved LabelVocabulary"):
        LabelVocabulary.load(tmp_path / "bad.json")


def test_hpo_from_an_obo_fixture(obo):
    from sdl_keras.datasets.hpo import load_hpo

    texts, labels, vocabulary = load_hpo(1, obo)
    documents = dict(zip(texts, vocabulary.decode(labels), strict=True))
    assert documents == {
        "Abnormality of the heart. Heart anomaly.": ["HP:0000100"],
        'Abnormality of the eye. Eye "quoted" anomaly.': ["HP:0000200"],
        "Heart valve defect. Valve.": ["HP:0000100"],
        "Eye and heart. Both.": ["HP:0000100", "HP:0000200"],
    }
    assert vocabulary.names == ["Abnormality of the heart", "Abnormality of the eye"]
    texts, labels, vocabulary = load_hpo(2, obo)
    # Level 2: children of the organ systems; HP:0000300 is one (under the eye).
    assert vocabulary.codes == ["HP:0000101", "HP:0000300"] and len(texts) == 2
    # Level 3: HP:0000300 is also a grandchild of the heart (through the valve).
    texts, labels, vocabulary = load_hpo(3, obo)
    assert vocabulary.codes == ["HP:0000300"] and texts == ["Eye and heart. Both."]
    with pytest.raises(ValueError, match="no terms at level 4"):
        load_hpo(4, obo)


def test_obo_errors_name_the_line(tmp_path):
    from sdl_keras.datasets.hpo import load_hpo, read_obo

    bad = tmp_path / "bad.obo"
    bad.write_text("[Term]\nid: HP:1\nname: x\ndef: no quotes\n")
    with pytest.raises(ValueError, match="line 4: malformed def"):
        read_obo(bad)
    bad.write_text("[Term]\nname: x\n")
    with pytest.raises(ValueError, match="line 2: 'name' before the term's id"):
        read_obo(bad)
    with pytest.raises(FileNotFoundError, match="No OBO file"):
        read_obo(tmp_path / "none.obo")
    with pytest.raises(ValueError, match="at least 1; received 0"):
        load_hpo(0)


def test_installed_hpo_and_its_stratified_split():
    from sdl_keras.datasets.hpo import load_hpo, split_hpo

    texts, labels, vocabulary = load_hpo(1)
    assert len(vocabulary) == 23 and vocabulary.counts[0] > vocabulary.counts[-1]
    assert labels.shape == (len(texts), 23) and len(texts) > 15_000
    assert 1.3 < labels.sum(1).mean() < 1.5
    train, validation, test = split_hpo(labels, seed=0)
    assert len(set(train) | set(validation) | set(test)) == len(texts)
    assert abs(len(test) / len(texts) - 0.1) < 0.01
    # Stratified: every label's share is the same in each part.
    np.testing.assert_allclose(labels[test].mean(0), labels[train].mean(0), atol=0.01)
    again = split_hpo(labels, seed=0)
    assert all(
        np.array_equal(a, b)
        for a, b in zip(again, (train, validation, test), strict=True)
    )


@pytest.fixture(scope="module")
def corpus():
    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(40)]
    texts = [" ".join(rng.choice(words, rng.integers(3, 30))) for _ in range(64)]
    labels = (rng.random((64, 4)) < 0.4).astype("float32")
    return texts, labels


def test_pipeline_batches_truncates_and_pads(corpus):
    from sdl_keras.data import text

    texts, labels = corpus
    tokenizer = text.vectorization_tokenizer(texts, 100)
    batches = list(
        text.text_dataset(texts, labels, tokenizer, max_length=12, batch_size=16)
    )
    assert len(batches) == 4
    ids, batch_labels = batches[0]
    assert ids.shape[0] == 16 and ids.shape[1] <= 12 and ids.dtype == "int32"
    np.testing.assert_array_equal(batch_labels, labels[:16])
    expected = np.asarray(tokenizer(texts[0]))[:12]
    np.testing.assert_array_equal(ids[0, : len(expected)], expected)
    assert not np.asarray(ids[0, len(expected) :]).any()
    fixed = text.text_dataset(texts, labels, tokenizer, 12, 16, fixed_length=True)
    assert {tuple(ids.shape) for ids, _ in fixed} == {(16, 12)}
    assert fixed.element_spec[0].shape.as_list() == [None, 12]
    bucketed = text.text_dataset(
        texts, labels, tokenizer, 40, 8, bucket_boundaries=[10, 20]
    )
    lengths = [(np.asarray(ids) != 0).sum(1).max() for ids, _ in bucketed]
    assert sum(len(b[0]) for b in bucketed) == 64 and max(lengths) <= 30


def test_views_are_seeded_fresh_each_epoch_and_keep_content(corpus):
    from sdl_keras.data import text

    texts, labels = corpus
    tokenizer = text.vectorization_tokenizer(texts, 100)
    augmentation = text.TextAugmentation(mask_id=1, mask_rate=0.2, drop_rate=0.1)

    def epochs(seed):
        dataset = text.text_dataset(
            texts, labels, tokenizer, 30, 64, 2, augmentation, shuffle=True, seed=seed
        )
        return [next(iter(dataset))[0].numpy() for _ in range(2)]

    first, second = epochs(5)
    assert first.shape[:2] == (64, 2)
    again = epochs(5)
    np.testing.assert_array_equal(first, again[0])
    assert not np.array_equal(first, second)  # new shuffle and views each epoch
    assert not np.array_equal(first[:, 0], first[:, 1])
    vocabulary_ids = set(
        np.concatenate([np.asarray(tokenizer(t)) for t in texts]).tolist()
    )
    assert set(np.unique(first).tolist()) <= vocabulary_ids | {0, 1}


def test_augmentation_edits():
    import tensorflow as tf

    from sdl_keras.data import text

    ids = tf.range(10, 1010)
    seed = tf.constant([3, 4])
    masked = text.TextAugmentation(7, mask_rate=0.3, drop_rate=0.0, crop_fraction=1.0)(
        ids, seed
    )
    assert 0.25 < np.mean(masked.numpy() == 7) < 0.35 and masked.shape == (1000,)
    cropped = text.TextAugmentation(7, 0.0, 0.0, 0.5)(ids, seed).numpy()
    assert len(cropped) == 500 and np.all(np.diff(cropped) == 1)  # one contiguous span
    dropped = text.TextAugmentation(7, 0.0, 0.2, 1.0)(ids, seed).numpy()
    assert 750 < len(dropped) < 850 and np.all(np.diff(dropped) > 0)  # order kept
    one = text.TextAugmentation(7, 0.0, 0.99, 1.0)(tf.constant([42]), seed).numpy()
    assert one.tolist() == [42]  # never empty
    with pytest.raises(ValueError, match="crop_fraction"):
        text.TextAugmentation(1, crop_fraction=0.0)


def test_pipeline_errors(corpus):
    from sdl_keras.data import text

    texts, labels = corpus
    tokenizer = text.vectorization_tokenizer(texts, 100)
    with pytest.raises(ValueError, match="N = 64 examples"):
        text.text_dataset(texts, labels[:10], tokenizer, 10, 8)
    with pytest.raises(ValueError, match="need an `augmentation`"):
        text.text_dataset(texts, labels, tokenizer, 10, 8, num_views=2)


def test_wordpiece_vocabulary_learnt_offline(corpus):
    from sdl_keras.data import text

    texts, _ = corpus
    tokenizer = text.wordpiece_tokenizer(texts, 200)
    assert text.mask_token_id(tokenizer) == 2
    assert tokenizer.id_to_token(0) == "[PAD]"
    assert len(np.asarray(tokenizer(texts[0]))) >= len(texts[0].split())


def test_encoders_ignore_padding(tmp_path):
    import keras
    import keras_hub

    from sdl_keras.encoders import (
        backbone_text_encoder,
        cnn_text_encoder,
        transformer_text_encoder,
    )

    ids = np.array([[5, 6, 7, 0, 0, 0], [8, 9, 4, 3, 0, 0]], "int32")
    keras.utils.set_random_seed(0)
    backbone = keras_hub.models.BertBackbone(
        vocabulary_size=50,
        num_layers=1,
        num_heads=2,
        hidden_dim=16,
        intermediate_dim=32,
        max_sequence_length=16,
    )
    backbone.save_to_preset(tmp_path / "tiny_bert")
    encoders = [
        cnn_text_encoder(50, 8, 16, 3, dropout=0.0),
        transformer_text_encoder(50, 16, 16, 1, 2, 32),
        backbone_text_encoder(str(tmp_path / "tiny_bert")),
    ]
    for encoder in encoders:
        full = np.asarray(encoder(ids))
        trimmed = np.asarray(encoder(ids[:, :4]))
        assert full.shape == (2, 16), encoder.name
        np.testing.assert_allclose(full, trimmed, atol=1e-5, err_msg=encoder.name)
    path = tmp_path / "encoder.keras"
    encoders[0].save(path)
    np.testing.assert_allclose(
        keras.saving.load_model(path)(ids), encoders[0](ids), atol=1e-6
    )


def test_brief_hpo_training_beats_the_label_prior():
    from sdl_keras.data import text
    from sdl_keras.datasets.hpo import load_hpo, split_hpo
    from sdl_keras.encoders import cnn_text_encoder
    from sdl_keras.run_config import RunConfig
    from sdl_keras.two_stage import Split, label_prior_baseline, run_two_stage

    texts, labels, _ = load_hpo(1)
    rng = np.random.default_rng(0)
    subset = rng.choice(len(texts), 3000, replace=False)
    documents, labels = np.asarray(texts, dtype=object)[subset], labels[subset]
    parts = [Split(documents[i], labels[i]) for i in split_hpo(labels, seed=0)]
    tokenizer = text.vectorization_tokenizer(list(parts[0].x), 5000)
    augmentation = text.TextAugmentation(text.mask_token_id(tokenizer))

    def make_dataset(split, purpose, seed):
        return text.text_dataset(
            list(split.x),
            split.y,
            tokenizer,
            48,
            64,
            num_views=2 if purpose == "pretrain" else 0,
            augmentation=augmentation,
            shuffle=purpose != "evaluate",
            seed=seed,
        )

    def make_encoder():
        return cnn_text_encoder(text.vocabulary_size(tokenizer), 32, 64, 3)

    config = RunConfig(
        loss="sdl", pretrain_epochs=2, classifier_epochs=8, batch_size=64, patience=3
    )
    report = run_two_stage(
        make_encoder, *parts, config, seed=0, make_dataset=make_dataset
    )
    prior = label_prior_baseline(*parts)
    # Measured: prior micro-F1 ≈ 0.23 and mAP ≈ 0.06; this run ≈ 0.5 and ≈ 0.4.
    assert report["tuned"]["micro_f1"] > prior["tuned"]["micro_f1"] + 0.15
    assert report["tuned"]["map"] > prior["tuned"]["map"] + 0.15
    assert report["tuned"]["precision_at_5"] > prior["tuned"]["precision_at_5"]


def test_tokenizer_from_a_local_preset(tmp_path, corpus):
    import keras_hub

    from sdl_keras.data import text
    from sdl_keras.text_task import TextTask

    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + [
        f"w{i}" for i in range(40)
    ]
    preset = tmp_path / "preset"
    keras_hub.models.BertBackbone(
        vocabulary_size=len(vocabulary),
        num_layers=1,
        num_heads=2,
        hidden_dim=8,
        intermediate_dim=16,
        max_sequence_length=16,
    ).save_to_preset(preset)
    keras_hub.tokenizers.BertTokenizer(vocabulary=vocabulary).save_to_preset(preset)
    tokenizer = text.preset_tokenizer(str(tmp_path / "preset"))
    assert text.mask_token_id(tokenizer) == 4
    texts, labels = corpus
    ids, _ = next(iter(text.text_dataset(texts, labels, tokenizer, 10, 4)))
    assert ids.shape[0] == 4 and int(ids.numpy().max()) < len(vocabulary)
    task = TextTask.build(texts, encoder=str(preset), max_length=12, batch_size=4)
    features = task.make_encoder()(ids)
    assert features.shape == (4, 8)  # the tiny backbone's hidden size
    with pytest.raises(ValueError, match="tokenizer"):
        TextTask.build(texts, "cnn", "bpe")


def test_bag_of_words_encoder_reads_its_most_frequent_columns(corpus, tmp_path):
    """The `bow` tokenizer keeps n-grams for the linear model beyond the
    encoder's `vocabulary_size`; the encoder reads only the most frequent
    ones, and a saved pipeline keeps that split."""
    from sdl_keras.data import text
    from sdl_keras.text_task import TextTask

    texts, _ = corpus
    task = TextTask.build(texts, vocabulary_size=20)
    columns = text.vocabulary_size(task.tokenizer)
    assert columns > 20 and len(task.idf) == columns
    counts = np.asarray(task.tokenizer(texts[:8]), "float32")
    # The vocabulary is ordered by frequency: the first columns
    # are the most frequent n-grams (column 0: unknown).
    totals = np.asarray(task.tokenizer(texts)).sum(axis=0)
    assert totals[1:20].min() >= totals[20:].max()
    encoder = task.make_encoder()
    assert encoder.input_shape == (None, columns)
    assert encoder.get_layer("tf_idf").idf_weights.shape == (20,)
    changed = counts.copy()
    changed[:, 20:] += 3.0
    np.testing.assert_allclose(
        encoder(counts, training=False), encoder(changed, training=False), atol=1e-6
    )
    linear = np.asarray(task.linear_features()(counts))
    assert linear.shape == (8, columns)
    np.testing.assert_allclose(np.linalg.norm(linear, axis=1), 1.0, atol=1e-5)
    state = json.loads(json.dumps(task.state(tmp_path)))
    loaded = TextTask.from_state(state, tmp_path)
    assert loaded.encoder_columns == 20
    assert loaded.make_encoder().get_layer("tf_idf").idf_weights.shape == (20,)


def test_bag_of_words_views_drop_words_at_the_pipelines_rate(corpus, tmp_path):
    """A `bow` pipeline's views drop each word with its `drop_rate` (the
    default 0.2, or what it is given); evaluation batches keep them all, and
    a saved pipeline keeps its rate."""
    import dataclasses

    from sdl_keras.text_task import TextTask
    from sdl_keras.two_stage import Split

    texts, labels = corpus
    split = Split(np.asarray(texts, dtype=object), labels)
    default = TextTask.build(texts, batch_size=len(texts))
    assert default.drop_rate == 0.2
    counts, _ = next(iter(default.make_dataset(split, "evaluate", seed=0)))
    present = np.count_nonzero(counts)
    for rate in (0.2, 0.6):
        task = dataclasses.replace(default, drop_rate=rate)
        views, _ = next(iter(task.make_dataset(split, "pretrain", seed=0)))
        assert views.shape[1] == 2
        kept = np.count_nonzero(views) / (2 * present)
        assert abs(kept - (1 - rate)) < 0.05, (rate, kept)
        # A view only removes words: what it keeps is some document's counts
        # (pre-training batches are shuffled).
        documents = np.asarray(counts)
        for view in np.asarray(views).reshape(-1, documents.shape[1]):
            kept_words = view != 0
            assert np.any(np.all(documents[:, kept_words] == view[kept_words], axis=1))
    saved = json.dumps(task.state(tmp_path))
    assert TextTask.from_state(json.loads(saved), tmp_path).drop_rate == 0.6
    earlier = json.loads(saved)  # a pipeline saved before the rate was kept
    del earlier["drop_rate"]
    assert TextTask.from_state(earlier, tmp_path).drop_rate == 0.2


def test_bag_of_words_encoder_stacks_its_pipelines_hidden_layers(corpus, tmp_path):
    """`hidden_layers` stacks Dense(ReLU) layers of `hidden_dim` (the first
    computes the TF-IDF's product with its kernel); a saved pipeline keeps
    its depth, one saved before reads back one layer; zero is refused."""
    import dataclasses

    import keras

    from sdl_keras.encoders import bag_of_words_text_encoder
    from sdl_keras.text_task import TextTask

    texts, _ = corpus
    default = TextTask.build(texts, vocabulary_size=30)
    counts = np.asarray(default.tokenizer(texts[:4]), "float32")
    deep = dataclasses.replace(default, hidden_layers=3).make_encoder()
    dense = [layer for layer in deep.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.name for layer in dense] == ["hidden", "hidden_2", "hidden_3"]
    assert [layer.kernel.shape for layer in dense] == [
        (30, 512),
        (512, 512),
        (512, 512),
    ]
    # By hand, without dropout: TF-IDF rows, then ReLU(x W + b) three times.
    x = np.asarray(deep.get_layer("tf_idf")(counts[:, :30]))
    for layer in dense:
        kernel, bias = (np.asarray(w) for w in layer.weights)
        x = np.maximum(x @ kernel + bias, 0.0)
    np.testing.assert_allclose(deep(counts, training=False), x, atol=1e-5)
    assert len(default.make_encoder().layers) == len(deep.layers) - 4
    saved = json.dumps(dataclasses.replace(default, hidden_layers=2).state(tmp_path))
    assert TextTask.from_state(json.loads(saved), tmp_path).hidden_layers == 2
    earlier = json.loads(saved)  # a pipeline saved before the depth was kept
    del earlier["hidden_layers"]
    assert TextTask.from_state(earlier, tmp_path).hidden_layers == 1
    with pytest.raises(ValueError, match="`hidden_layers` must be at least 1"):
        bag_of_words_text_encoder(default.idf, hidden_layers=0)


MESSY_TEXTS = [
    "The U.S. economy grew 3% in Q3; don't panic!",
    "Économie: the ECONOMY grew again -- and again.",
    "Naïve café prices grew, the U.S. said (again)",
    "a b c: economy_grew 3% x",
    "prices, prices, prices: the café said no",
    "q3 growth; the economy grew",
]


def test_bag_of_words_features_are_scikit_learns_tf_idf():
    """The linear model's features equal the logistic-regression reference's
    (scikit-learn's TF-IDF): the same tokens from Unicode, punctuation and
    one-letter words, the same kept columns, the same weights."""
    from sdl_keras.data import text
    from sdl_keras.text_task import TextTask
    from sdl_keras.two_stage import Split

    train = Split(np.array(MESSY_TEXTS * 2), np.zeros((12, 1)))
    test = Split(
        np.array(["Prices grew in the U.S.", "Ünknown wörds only"]), [[0], [0]]
    )
    task = TextTask.build(train.x, vocabulary_size=10)
    expected = [m.toarray() for m in task.reference_features(train, test)]
    vocabulary = task.tokenizer.get_vocabulary()
    assert vocabulary[0] == "[UNK]" and task.idf[0] == 0.0
    for split, reference in zip((train, test), expected, strict=True):
        ours = np.asarray(task.linear_features()(task.tokenizer(split.x)))
        assert ours.shape == (len(split.x), 1 + reference.shape[1])
        np.testing.assert_allclose(ours[:, 0], 0.0)
        # scikit-learn orders its columns alphabetically.
        order = np.argsort(vocabulary[1:])
        np.testing.assert_allclose(ours[:, 1:][:, order], reference, atol=1e-6)
    # The same columns where fewer are kept than occur (ties cut alike).
    from sklearn.feature_extraction.text import CountVectorizer

    kept = CountVectorizer(ngram_range=(1, 2), min_df=2, max_features=7).fit(train.x)
    layer = text.bag_of_words_tokenizer(train.x, vocabulary_size=7)
    assert sorted(layer.get_vocabulary()[1:]) == sorted(kept.vocabulary_)


def test_bag_of_words_without_shared_words_is_a_named_error():
    from sdl_keras.data import text

    with pytest.raises(ValueError, match="No word or n-gram occurs in 2 or more"):
        text.bag_of_words_tokenizer(["alpha beta", "gamma delta"])
