"""The view maker of contrastive image work, fused for CPU pipelines."""

from __future__ import annotations

import functools
import math

import keras
from keras import ops

# ITU-R 601 luma, as Keras's RandomGrayscale and tf.image use.
_LUMA = (0.2989, 0.5870, 0.1140)

# The default geometry, gentler than single-object recipes (SimCLR crops to
# 8% of the area): a view of a multi-object image keeps its labels only if it
# keeps its objects. Zoom-ins of up to 40% of the side cropped objects out of
# scenes and slowed pre-training (docs/results.md, the probe of the views).
CROP_ZOOM = 0.1
SHIFT = 0.05


@keras.saving.register_keras_serializable(package="sdl_keras")
class ViewAugmentation(keras.layers.Layer):
    """Random views of images: resized crop, shift, flip, colour jitter and
    grayscale, in one resampling and one colour matrix per image.

    The draws of Keras's `RandomZoom((-crop_zoom, 0), fill_mode="reflect")`,
    `RandomTranslation(shift, shift, fill_mode="reflect")`,
    `RandomFlip("horizontal")`, `RandomColorJitter` (brightness and contrast
    `colour`, saturation `(0.5 ± colour/2)`, hue `colour/4`) and
    `RandomGrayscale(grayscale_rate)` applied in that order, at a fraction of
    their cost. Zoom, shift and flip compose into one projective transform:
    each image is resampled once instead of three times, with the same
    geometry (where a shift brings in border, the fused view reflects the
    image rather than its zoomed copy). Brightness, contrast, saturation, hue
    and grayscale compose into one 3×3 matrix and an offset per image on RGB,
    with no round trip through HSV: saturation is a blend with the luma (as
    torchvision's `ColorJitter` does it) and hue a rotation about the gray
    axis, which move colours as HSV's adjustments do but not to the same
    values. Values are clipped to [0, 255] once, at the end. Resampling and
    colour run as one function compiled by XLA (`view_pixels`), which fuses
    them into a few passes over the pixels.

    With `channels=1` the colour part is brightness and contrast. Like the
    Keras layers, it draws a fresh view per image on every call with
    `training=True` (the default) from a `keras.random.SeedGenerator`, and
    returns the images unchanged with `training=False`. The resampling is a
    TensorFlow op, as the rest of `sdl_keras.data`: the layer belongs in a
    `tf.data` pipeline or a TensorFlow-backend model.

    Args:
        channels: 1 or 3.
        crop_zoom: largest zoom-in, as a fraction of the side, in [0, 1).
            Defaults to 0.1: a stronger zoom crops objects, and with them
            labels, out of multi-object images.
        shift: largest translation, as a fraction of the side, in [0, 1).
            Defaults to 0.05.
        flip: random horizontal flips (turn off for orientation-bearing
            content such as digits).
        colour: jitter strength in [0, 1).
        grayscale_rate: probability of a grayscale view (RGB only).
        seed: seeds the draws.
        **kwargs: `Layer` arguments.

    Examples:

    >>> views = ViewAugmentation(channels=3, seed=0)
    >>> images = keras.random.uniform((2, 8, 8, 3), 0, 255, seed=1)
    >>> tuple(views(images).shape)
    (2, 8, 8, 3)
    >>> bool(ops.all(views(images, training=False) == images))
    True
    """

    def __init__(
        self,
        channels: int = 3,
        crop_zoom: float = CROP_ZOOM,
        shift: float = SHIFT,
        flip: bool = True,
        colour: float = 0.4,
        grayscale_rate: float = 0.2,
        seed: int | None = None,
        **kwargs,
    ) -> None:
        super().__init__(**kwargs)
        if channels not in (1, 3):
            raise ValueError(f"`channels` must be 1 or 3; received {channels}.")
        for name, value in (
            ("crop_zoom", crop_zoom),
            ("shift", shift),
            ("colour", colour),
            ("grayscale_rate", grayscale_rate),
        ):
            if not 0.0 <= value < 1.0:
                raise ValueError(f"`{name}` must be in [0, 1); received {value}.")
        self.channels = channels
        self.crop_zoom = crop_zoom
        self.shift = shift
        self.flip = flip
        self.colour = colour
        self.grayscale_rate = grayscale_rate
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images, training=True):
        if not training:
            return images
        unbatched = len(images.shape) == 3
        views = self.views(images[None] if unbatched else images, 1)[:, 0]
        return views[0] if unbatched else views

    def views(self, images, num_views: int, padding: tuple[int, int] = (0, 0)):
        """`[B, num_views, H, W, C]`: independent views of each image of a
        batch, drawn together: the batch is padded once and resampled once
        for all of them (what a pipeline making two views calls instead of
        the layer twice).

        Args:
            images: `[B, H, W, C]`, or `[B, H + 2·p_y, W + 2·p_x, C]` as
                `pad` returns them.
            num_views: views per image.
            padding: `(p_y, p_x)` where the images come from `pad` (see
                `padding`): the views then have the size before padding, and
                nothing is padded here (a pipeline pads each image once,
                before caching, instead of every batch of every epoch).
        """
        pixels = ops.cast(images, "float32")
        batch = ops.shape(pixels)[0]
        count = batch * num_views
        shape = tuple(images.shape[1:])
        if any(padding):
            pad_y, pad_x = padding
            shape = (shape[0] - 2 * pad_y, shape[1] - 2 * pad_x, shape[2])
            needed = self.padding(shape[0], shape[1])
            if pad_y < needed[0] or pad_x < needed[1]:
                raise ValueError(
                    f"`padding` {padding} does not cover the shifts of "
                    f"{shape[0]}×{shape[1]} images; `pad` adds {needed}."
                )
        move = bool(self.crop_zoom or self.shift or self.flip)
        recolour = bool(self.colour or (self.channels == 3 and self.grayscale_rate))
        if move and not any(padding):
            padding = self.padding(shape[0], shape[1])
            pixels = self.pad(pixels)
        draws = self._draw(count)
        draws["flip"] = draws["flip"] < (0.5 if self.flip else 0.0)
        draws["grayscale"] = draws["grayscale"] < self.grayscale_rate
        pixels = _compiled_view_pixels(self.channels)(
            pixels, draws, num_views, tuple(padding), move, recolour
        )
        # Sample-major: the views of one image are adjacent.
        views = ops.reshape(pixels, (batch, num_views, *shape))
        return ops.cast(views, images.dtype)

    def padding(self, height: int, width: int) -> tuple[int, int]:
        """`(p_y, p_x)`: pixels of reflection above and beside an image of
        `height` × `width` that cover every shift the layer draws."""
        return math.ceil(self.shift * height) + 1, math.ceil(self.shift * width) + 1

    def pad(self, images):
        """Images `[..., H, W, C]` padded by reflection with `padding(H, W)`
        pixels: what `views(…, padding)` takes."""
        import tensorflow as tf

        pad_y, pad_x = self.padding(images.shape[-3], images.shape[-2])
        outer = [[0, 0]] * (len(images.shape) - 3)
        sides = [*outer, [pad_y, pad_y], [pad_x, pad_x], [0, 0]]
        return tf.pad(images, sides, mode="SYMMETRIC")

    def _draw(self, count) -> dict:
        """`count` draws of every random quantity of a view, from one call
        to the generator (one small op instead of nine, each of which costs
        a tf.data pipeline as much as a pass over the pixels): zoom, shifts
        (fractions of the side), flip and grayscale (in [0, 1), compared
        with their rates), brightness (pixel values), contrast, Keras's
        saturation factor and hue (turns)."""
        colour = self.colour
        ranges = {
            "zoom": (1.0 - self.crop_zoom, 1.0),
            "shift_x": (-self.shift, self.shift),
            "shift_y": (-self.shift, self.shift),
            "flip": (0.0, 1.0),
            "brightness": (-255.0 * colour, 255.0 * colour),
            "contrast": (1.0 - colour, 1.0 + colour),
            "saturation": (0.5 - colour / 2, 0.5 + colour / 2),
            "hue": (-colour / 8, colour / 8),
            "grayscale": (0.0, 1.0),
        }
        low, high = (
            ops.convert_to_tensor(bounds, "float32")
            for bounds in zip(*ranges.values(), strict=True)
        )
        unit = keras.random.uniform(
            (count, len(ranges)), dtype="float32", seed=self.seed_generator
        )
        values = low + (high - low) * unit
        return {name: values[:, index] for index, name in enumerate(ranges)}

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "channels": self.channels,
            "crop_zoom": self.crop_zoom,
            "shift": self.shift,
            "flip": self.flip,
            "colour": self.colour,
            "grayscale_rate": self.grayscale_rate,
            "seed": self.seed,
        }


def resample_views(
    images,
    zoom,
    shift_x,
    shift_y,
    flipped,
    num_views: int = 1,
    padding: tuple[int, int] = (0, 0),
):
    """Each image zoomed in by `zoom` about its centre, shifted by
    `(shift_x, shift_y)` pixels, flipped horizontally where `flipped`, in
    one bilinear resampling: output pixel (x, y) samples
    x' = c_x + z (f(x) − t_x − c_x), y' = c_y + z (y − t_y − c_y), with f the
    flip x ↦ W − 1 − x. What falls outside the image reflects its border (as
    `fill_mode="reflect"` of the Keras layers).

    The sampling is separable (the transform keeps the axes): each output
    row interpolates two rows of the image padded by reflection, each output
    pixel two pixels of that row — gathers and linear blends that XLA fuses
    into one pass, at the values of `tf.image.crop_and_resize` with the
    matching crop box. With `num_views` the draws hold `B · num_views`
    values, sample-major, and the result `[B · num_views, H, W, C]` takes
    every view of an image from the one padded copy. Images already padded by
    `padding` pixels (each side; at least the largest shift + 1) are used as
    they are.
    """
    import tensorflow as tf

    images = tf.convert_to_tensor(images, "float32")
    # The views keep the unpadded images' static shape (the gathers' indices
    # have a dynamic size).
    sides = [
        None if side is None else side - 2 * pad
        for side, pad in zip(images.shape[1:3], padding, strict=True)
    ]
    if not any(padding):
        # A zoom-in never leaves the image; the shift leaves it by at most
        # its size, which the padding covers.
        pad_y = tf.cast(tf.math.ceil(tf.reduce_max(tf.abs(shift_y))), "int32") + 1
        pad_x = tf.cast(tf.math.ceil(tf.reduce_max(tf.abs(shift_x))), "int32") + 1
        images = tf.pad(
            images, [[0, 0], [pad_y, pad_y], [pad_x, pad_x], [0, 0]], "SYMMETRIC"
        )
        padding = (pad_y, pad_x)
    shape = tf.shape(images)
    zoom = tf.convert_to_tensor(zoom, "float32")[:, None]

    def positions(size, shift, pad):
        """`[B · num_views, size]`: where each output line samples, in the
        padded image."""
        size = tf.cast(size, "float32")
        centre = (size - 1.0) / 2.0
        steps = tf.range(size)[None, :]
        shift = tf.convert_to_tensor(shift, "float32")[:, None]
        return centre + zoom * (steps - shift - centre) + tf.cast(pad, "float32")

    def blend_indices(at, limit):
        low = tf.floor(at)
        weight = at - low
        low = tf.clip_by_value(tf.cast(low, "int32"), 0, limit - 1)
        return low, tf.minimum(low + 1, limit - 1), weight

    rows_at = positions(shape[1] - 2 * padding[0], shift_y, padding[0])
    columns_at = positions(shape[2] - 2 * padding[1], shift_x, padding[1])
    columns_at = tf.where(flipped[:, None], tf.reverse(columns_at, [1]), columns_at)
    # Rows: a gather of whole rows from the images stacked as [B · H_p, ...].
    top, bottom, row_weight = blend_indices(rows_at, shape[1])
    first_row = tf.repeat(tf.range(shape[0]) * shape[1], num_views)[:, None]
    stacked = tf.reshape(images, [-1, shape[2], shape[3]])
    upper = tf.gather(stacked, first_row + top)
    lower = tf.gather(stacked, first_row + bottom)
    rows = upper + row_weight[:, :, None, None] * (lower - upper)
    left, right, column_weight = blend_indices(columns_at, shape[2])
    left_pixels = tf.gather(rows, left, axis=2, batch_dims=1)
    right_pixels = tf.gather(rows, right, axis=2, batch_dims=1)
    views = left_pixels + column_weight[:, None, :, None] * (right_pixels - left_pixels)
    return tf.ensure_shape(views, [None, *sides, images.shape[3]])


def view_pixels(
    images,
    draws: dict,
    num_views: int,
    padding: tuple[int, int],
    move: bool,
    recolour: bool,
):
    """`[B · num_views, H, W, C]`: the views of `ViewAugmentation.views`
    from images padded by `padding`, given its draws (`flip` and `grayscale`
    as booleans, shifts as fractions of the side)."""
    import tensorflow as tf

    pad_y, pad_x = padding
    shape = tf.shape(images)
    height, width = shape[1] - 2 * pad_y, shape[2] - 2 * pad_x
    if move:
        views = resample_views(
            images,
            draws["zoom"],
            draws["shift_x"] * tf.cast(width, "float32"),
            draws["shift_y"] * tf.cast(height, "float32"),
            draws["flip"],
            num_views,
            padding,
        )
    else:
        inner = images[:, pad_y : pad_y + height, pad_x : pad_x + width]
        views = tf.repeat(inner, num_views, axis=0)
    if recolour:
        views = colour_jitter(
            views,
            draws["brightness"],
            draws["contrast"],
            draws["saturation"],
            draws["hue"],
            draws["grayscale"],
        )
    return views


def colour_jitter(images, brightness, contrast, saturation, hue, grayscale):
    """Brightness b and contrast c per image give c·x + (1 − c)·mean + b per
    channel (the mean over the image's pixels); for RGB a matrix M
    (saturation, hue, grayscale; `colour_matrix`) follows, so the result is
    c·M·x + M·((1 − c)·mean + b), clipped to [0, 255].

    Args:
        images: `[B, H, W, C]`, C 1 or 3.
        brightness: `[B]`, in pixel values.
        contrast: `[B]`.
        saturation, hue, grayscale: `[B]` each, as `colour_matrix` takes
            them (unused with one channel).
    """
    if images.shape[-1] == 1:
        matrix = ops.ones((ops.shape(images)[0], 1, 1))
    else:
        matrix = colour_matrix(saturation, hue, grayscale)
    mean = ops.mean(images, axis=(1, 2))
    offset = (1.0 - contrast[:, None]) * mean + brightness[:, None]
    scaled = contrast[:, None, None] * matrix
    # A sum of broadcast products rather than a batched 3×3 product:
    # elementwise, it fuses with the offset and the clip into one pass.
    moved = sum(
        images[..., j : j + 1] * scaled[:, None, None, :, j]
        for j in range(images.shape[-1])
    )
    moved_offset = ops.einsum("bij,bj->bi", matrix, offset)
    return ops.clip(moved + moved_offset[:, None, None, :], 0.0, 255.0)


def colour_matrix(saturation, hue, grayscale):
    """`[B, 3, 3]`: grayscale · hue rotation · saturation, for RGB.

    Args:
        saturation: `[B]`, Keras's saturation factor f in (0, 1), which
            scales saturation by f / (1 − f).
        hue: `[B]`, rotations about the gray axis, in turns.
        grayscale: `[B]` booleans, True for a grayscale view.
    """
    identity = ops.eye(3)[None]
    luma = ops.convert_to_tensor(_LUMA, "float32")
    to_luma = ops.ones((3, 1)) * luma[None, :]  # each row: the luma weights
    scale = (saturation / (1.0 - saturation))[:, None, None]
    saturated = scale * identity + (1.0 - scale) * to_luma[None]
    angle = hue * 2 * math.pi
    cosine, sine = ops.cos(angle)[:, None, None], ops.sin(angle)[:, None, None]
    cross = ops.convert_to_tensor(
        [[0.0, -1.0, 1.0], [1.0, 0.0, -1.0], [-1.0, 1.0, 0.0]], "float32"
    )
    rotated = (
        cosine * identity
        + (1.0 - cosine) / 3.0 * ops.ones((1, 3, 3))
        + sine / math.sqrt(3.0) * cross[None]
    )
    gray = ops.where(grayscale[:, None, None], to_luma[None], identity)
    return ops.matmul(gray, ops.matmul(rotated, saturated))


@functools.cache
def _compiled_view_pixels(channels: int):
    """`view_pixels` compiled by XLA: the resampling's gathers and blends and
    the colour jitter's mean, product, offset and clip fuse into a few passes
    over the pixels, a third of the CPU time of `crop_and_resize` and the
    jitter op by op. One function per number of channels: calls on other
    image sizes relax its traced shape, and the channels decide a branch."""
    del channels  # the cache key
    import tensorflow as tf

    return tf.function(view_pixels, jit_compile=True, reduce_retracing=True)
