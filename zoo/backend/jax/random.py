"""Random ops for the jax backend: a (2,) int32 seed tensor becomes a PRNG key (traceable)."""
import jax
import jax.numpy as jnp


def _key(seed):
    seed = jnp.asarray(seed).astype("uint32")
    return jax.random.fold_in(jax.random.key(seed[0]), seed[1])


def is_tracer(x):
    return isinstance(x, jax.core.Tracer)


def set_framework_seed(seed):
    pass


def normal(shape, mean, stddev, dtype, seed):
    return jax.random.normal(_key(seed), shape, dtype) * jnp.asarray(stddev, dtype) \
        + jnp.asarray(mean, dtype)


def uniform(shape, minval, maxval, dtype, seed):
    return jax.random.uniform(_key(seed), shape, dtype, minval, maxval)


def truncated_normal(shape, mean, stddev, dtype, seed):
    out = jax.random.truncated_normal(_key(seed), -2.0, 2.0, shape, dtype)
    return out * jnp.asarray(stddev, dtype) + jnp.asarray(mean, dtype)


def randint(shape, minval, maxval, dtype, seed):
    return jax.random.randint(_key(seed), shape, minval, maxval, dtype)


def categorical(logits, num_samples, dtype, seed):
    samples = jax.random.categorical(_key(seed), logits, axis=-1,
                                     shape=(num_samples, logits.shape[0]))
    return samples.T.astype(dtype)


def dropout(inputs, rate, noise_shape, seed):
    keep = jax.random.bernoulli(_key(seed), 1.0 - rate, noise_shape)
    return jnp.where(keep, inputs / jnp.asarray(1.0 - rate, inputs.dtype),
                     jnp.zeros((), inputs.dtype))


def shuffle(x, axis, seed):
    return jax.random.permutation(_key(seed), x, axis=axis, independent=False)
