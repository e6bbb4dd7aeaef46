"""image ops for the numpy backend."""
