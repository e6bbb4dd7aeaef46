"""math ops for the torch backend."""
