"""nn ops for the numpy backend."""
