"""image ops for the tensorflow backend."""
