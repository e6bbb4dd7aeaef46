"""random ops for the torch backend."""
