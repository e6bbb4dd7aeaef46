"""nn ops for the jax backend."""
