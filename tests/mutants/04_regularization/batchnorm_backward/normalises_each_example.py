# MUTANT: recomputes the statistics of each example over its features (axis 1) instead of each feature over the batch
def batchnorm_backward(grad_out, x, gamma, eps=1e-5):
    """Training-mode batch-norm backward pass. Returns (dx, dgamma, dbeta)."""
    std = np.sqrt(x.var(axis=1, keepdims=True) + eps)
    xhat = (x - x.mean(axis=1, keepdims=True)) / std
    dgamma = (grad_out * xhat).sum(axis=0)
    dbeta = grad_out.sum(axis=0)
    g = grad_out * gamma
    dx = (
        g
        - g.mean(axis=1, keepdims=True)
        - xhat * (g * xhat).mean(axis=1, keepdims=True)
    ) / std
    return dx, dgamma, dbeta
