# MUTANT: subtracts the mean of g but forgets the term along xhat (the variance path)
def batchnorm_backward(grad_out, x, gamma, eps=1e-5):
    """Training-mode batch-norm backward pass. Returns (dx, dgamma, dbeta)."""
    std = np.sqrt(x.var(axis=0) + eps)
    xhat = (x - x.mean(axis=0)) / std
    g = grad_out * gamma
    dx = (g - g.mean(axis=0)) / std
    return dx, (grad_out * xhat).sum(axis=0), grad_out.sum(axis=0)
