"""image ops for the torch backend."""
