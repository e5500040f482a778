# MUTANT: treats the batch mean and variance as constants: dx = gamma * grad_out / std
def batchnorm_backward(grad_out, x, gamma, eps=1e-5):
    """Training-mode batch-norm backward pass. Returns (dx, dgamma, dbeta)."""
    std = np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) / std
    dx = grad_out * gamma / std
    return dx, (grad_out * xhat).sum(axis=0), grad_out.sum(axis=0)
