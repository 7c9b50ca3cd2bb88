"""The MLP that maps encoder features to the contrastive embedding space."""

from __future__ import annotations

from collections.abc import Sequence

import keras

from sdl_keras.losses.weighted_supcon import l2_normalize


@keras.saving.register_keras_serializable(package="sdl_keras")
class ProjectionHead(keras.layers.Layer):
    """MLP projection head with an L2-normalised output, computed in float32.

    Contrastive losses compare embeddings by cosine similarity divided by a
    small temperature, so the projection runs in float32 even under a mixed
    precision policy: bfloat16 has ~3 significant digits, and at τ = 0.07 the
    rounding of z·z would reach the logits at the 0.1 level.

    Args:
        output_dim: size of the embedding. Defaults to 128.
        hidden_dims: sizes of the hidden layers, each followed by
            `activation`. Defaults to `(512,)`.
        activation: activation of the hidden layers. Defaults to `"relu"`.
        **kwargs: `Layer` arguments (`name`, ...); `dtype` defaults to
            `"float32"`.

    Examples:

    >>> head = ProjectionHead(output_dim=4, hidden_dims=(8,))
    >>> z = head(keras.random.normal((2, 6), seed=1))
    >>> tuple(round(float(v), 5) for v in keras.ops.norm(z, axis=-1))
    (1.0, 1.0)
    """

    def __init__(
        self,
        output_dim: int = 128,
        hidden_dims: Sequence[int] = (512,),
        activation: str = "relu",
        **kwargs,
    ) -> None:
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        if int(output_dim) < 1 or any(int(size) < 1 for size in hidden_dims):
            raise ValueError(
                "`output_dim` and `hidden_dims` must be positive; received "
                f"{output_dim} and {tuple(hidden_dims)}."
            )
        self.output_dim = int(output_dim)
        self.hidden_dims = tuple(int(size) for size in hidden_dims)
        self.activation = activation
        self.hidden_layers = [
            keras.layers.Dense(
                size,
                activation=activation,
                dtype=self.dtype_policy,
                name=f"hidden_{index}",
            )
            for index, size in enumerate(self.hidden_dims)
        ]
        self.output_layer = keras.layers.Dense(
            self.output_dim, dtype=self.dtype_policy, name="output"
        )

    def build(self, input_shape) -> None:
        for layer in self.hidden_layers:
            layer.build(input_shape)
            input_shape = layer.compute_output_shape(input_shape)
        self.output_layer.build(input_shape)

    def call(self, features):
        x = features
        for layer in self.hidden_layers:
            x = layer(x)
        return l2_normalize(self.output_layer(x))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.output_dim)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "output_dim": self.output_dim,
            "hidden_dims": list(self.hidden_dims),
            "activation": self.activation,
        }
