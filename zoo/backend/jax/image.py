"""image ops for the jax backend."""
