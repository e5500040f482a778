# MUTANT: recomputes the statistics with the unbiased variance (ddof=1)
def batchnorm_backward(grad_out, x, gamma, eps=1e-5):
    """Training-mode batch-norm backward pass. Returns (dx, dgamma, dbeta)."""
    std = np.sqrt(x.var(axis=0, ddof=1) + eps)
    xhat = (x - x.mean(axis=0)) / std
    g = grad_out * gamma
    dx = (g - g.mean(axis=0) - xhat * (g * xhat).mean(axis=0)) / std
    return dx, (grad_out * xhat).sum(axis=0), grad_out.sum(axis=0)
