"""Dtype policies: the dtype a layer stores its variables in and the dtype it computes in.

    "float32"          variables float32, compute float32
    "bfloat16"         variables bfloat16, compute bfloat16
    "mixed_bfloat16"   variables float32 (master weights), compute bfloat16
    "mixed_float16"    variables float32, compute float16 (train with loss scaling)
"""
from zoo.backend.common import dtypes

_GLOBAL_POLICY = None


class DTypePolicy:
    def __init__(self, name="float32"):
        if isinstance(name, DTypePolicy):
            name = name.name
        self.name = name
        if name.startswith("mixed_"):
            self.variable_dtype = "float32"
            self.compute_dtype = dtypes.standardize_dtype(name[len("mixed_"):])
            if self.compute_dtype not in ("float16", "bfloat16"):
                raise ValueError(f"Unknown mixed precision policy {name!r}.")
        else:
            self.variable_dtype = self.compute_dtype = dtypes.standardize_dtype(name)

    def __repr__(self):
        return f"<DTypePolicy {self.name}>"

    def __eq__(self, other):
        return isinstance(other, DTypePolicy) and other.name == self.name

    def __hash__(self):
        return hash(self.name)


def get(policy):
    """None -> the global policy; a string or DTypePolicy -> a DTypePolicy."""
    if policy is None:
        return global_policy()
    if isinstance(policy, DTypePolicy):
        return policy
    if isinstance(policy, dict):  # serialized form
        return DTypePolicy(policy.get("name", "float32"))
    return DTypePolicy(policy)


def global_policy():
    global _GLOBAL_POLICY
    if _GLOBAL_POLICY is None:
        _GLOBAL_POLICY = DTypePolicy(dtypes.config.floatx())
    return _GLOBAL_POLICY


def set_dtype_policy(policy):
    """Set the policy that new layers use when they are given no ``dtype``."""
    global _GLOBAL_POLICY
    _GLOBAL_POLICY = get(policy) if policy is not None else None
