"""random ops for the tensorflow backend."""
