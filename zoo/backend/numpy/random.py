"""random ops for the numpy backend."""
