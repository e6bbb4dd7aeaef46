"""Multi-tensor optimizer updates for torch eager mode.

In eager torch every zoo op pays Python dispatch, so Adam written op by op costs ~15 ops
per variable per step. These functions apply the same update rule to all variables at
once with torch's ``_foreach`` kernels (the approach torch.optim takes). They return True
when they handled the update; the other backends return False and the optimizer runs its
generic zoo.ops path (under jit that path fuses anyway).
"""
import torch

from zoo.backend.torch import accel

SUPPORTS_MULTI_TENSOR = True


def _tensors(variables):
    return [v._value for v in variables]


# torch's fused Adam applies its own bias corrections from a step count; at this step count
# beta ** step is 0 in float32, so they are 1 and ``lr`` is zoo's bias-corrected alpha
_NO_BIAS_CORRECTION_STEP = 1e9
_fused_steps = {}


def _steps(count):
    steps = _fused_steps.get(count)
    if steps is None:
        steps = _fused_steps[count] = [torch.tensor(_NO_BIAS_CORRECTION_STEP)
                                       for _ in range(count)]
    return steps


def adam_update(variables, grads, momentums, velocities, alpha, beta_1, beta_2, epsilon):
    """m <- lerp(m, g, 1-b1); v <- b2 v + (1-b2) g^2; w <- w - alpha * m / (sqrt(v) + eps).

    One fused kernel call for every variable (torch's CPU fused Adam, ~2x faster than the
    foreach ops below, which remain for what it does not take)."""
    params, ms, vs = _tensors(variables), _tensors(momentums), _tensors(velocities)
    # the fused kernel walks every tensor as contiguous memory: a transposed gradient (one
    # a traced graph returns, or a user's) would be read in the wrong order
    grads = [g.contiguous() for g in grads]
    with torch.no_grad():
        if all(p.dtype == g.dtype == m.dtype and p.is_contiguous() and m.is_contiguous()
               and v.is_contiguous() for p, g, m, v in zip(params, grads, ms, vs)):
            torch._fused_adam_(params, list(grads), ms, vs, [], _steps(len(params)),
                               lr=float(alpha), beta1=float(beta_1), beta2=float(beta_2),
                               weight_decay=0.0, eps=float(epsilon), amsgrad=False,
                               maximize=False)
            # the fused kernel leaves the version counters as they were: packed copies
            # (kept per version) would read old weights
            accel.weights_changed_in_place(params)
            return True
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


FUSED_ADAM = False  # Adam uses the paths above (see tensorflow/optimizers.py)


def fused_adam(variables, grads, momentums, velocities, learning_rate, step, beta_1, beta_2,
               epsilon):
    """TensorFlow only (see zoo/backend/tensorflow/optimizers.py)."""
    return False
