"""Backend-neutral pieces shared by every backend."""
from zoo.backend.common import config, dtypes  # noqa: F401
from zoo.backend.common.dtypes import result_type, standardize_dtype  # noqa: F401
from zoo.backend.common.stateless_scope import StatelessScope, get_stateless_scope  # noqa: F401
from zoo.backend.common.symbolic import SymbolicTensor, is_symbolic  # noqa: F401
from zoo.backend.common.variables import Variable  # noqa: F401
