import jax as _jax

# zoo's dtype set includes int64 (and float64 for references): JAX drops 64-bit types
# unless this flag is on. zoo always passes explicit dtypes, so defaults stay 32-bit.
_jax.config.update("jax_enable_x64", True)
