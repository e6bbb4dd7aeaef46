"""Multi-tensor optimizer updates for torch eager mode.

In eager torch every zoo op pays Python dispatch, so Adam written op by op costs ~15 ops
per variable per step. These functions apply the same update rule to all variables at
once with torch's ``_foreach`` kernels (the approach torch.optim takes). They return True
when they handled the update; the other backends return False and the optimizer runs its
generic zoo.ops path (under jit that path fuses anyway).
"""
import torch

SUPPORTS_MULTI_TENSOR = True


def _tensors(variables):
    return [v._value for v in variables]


def adam_update(variables, grads, momentums, velocities, alpha, beta_1, beta_2, epsilon):
    """m <- lerp(m, g, 1-b1); v <- lerp(v, g^2, 1-b2); w <- w - alpha * m / (sqrt(v) + eps)."""
    params, ms, vs = _tensors(variables), _tensors(momentums), _tensors(velocities)
    with torch.no_grad():
        torch._foreach_lerp_(ms, grads, 1.0 - beta_1)
        torch._foreach_lerp_(vs, torch._foreach_mul(grads, grads), 1.0 - beta_2)
        denominators = torch._foreach_sqrt(vs)
        torch._foreach_add_(denominators, epsilon)
        torch._foreach_addcdiv_(params, torch._foreach_mul(ms, alpha), denominators, value=-1.0)
    return True


def sgd_update(variables, grads, momentums, learning_rate, momentum, nesterov):
    """w <- w - lr g, or with momentum m <- momentum m - lr g; w <- w + m (nesterov:
    w <- w + momentum m - lr g)."""
    params = _tensors(variables)
    with torch.no_grad():
        steps = torch._foreach_mul(grads, learning_rate)
        if not momentum:
            torch._foreach_sub_(params, steps)
            return True
        ms = _tensors(momentums)
        torch._foreach_mul_(ms, momentum)
        torch._foreach_sub_(ms, steps)
        if nesterov:
            delta = torch._foreach_mul(ms, momentum)
            torch._foreach_sub_(delta, steps)
            torch._foreach_add_(params, delta)
        else:
            torch._foreach_add_(params, ms)
    return True
