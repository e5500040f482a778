# MUTANT: evaluation mode normalises with the batch's own statistics
def batchnorm_forward(
    x, gamma, beta, running_mean, running_var, train, momentum=0.1, eps=1e-5
):
    """Batch norm over axis 0 as nn.BatchNorm1d. Returns (out, new_running_mean, new_running_var)."""
    n = x.shape[0]
    mean, var = x.mean(axis=0), x.var(axis=0)
    if train:
        new_mean = (1 - momentum) * running_mean + momentum * mean
        new_var = (1 - momentum) * running_var + momentum * var * n / max(n - 1, 1)
    else:
        new_mean, new_var = running_mean.copy(), running_var.copy()
    out = gamma * (x - mean) / np.sqrt(var + eps) + beta
    return out, new_mean, new_var
