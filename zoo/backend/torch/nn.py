"""nn ops for the torch backend."""
