# MUTANT: normalises with np.std(x, axis=0, ddof=1), the unbiased standard deviation
def batchnorm_forward(
    x, gamma, beta, running_mean, running_var, train, momentum=0.1, eps=1e-5
):
    """Batch norm over axis 0 as nn.BatchNorm1d. Returns
    (out, new_running_mean, new_running_var)."""
    if train:
        mean, std = x.mean(axis=0), x.std(axis=0, ddof=1)
        new_mean = (1 - momentum) * running_mean + momentum * mean
        new_var = (1 - momentum) * running_var + momentum * std**2
        out = gamma * (x - mean) / np.sqrt(std**2 + eps) + beta
    else:
        new_mean, new_var = running_mean.copy(), running_var.copy()
        out = gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
    return out, new_mean, new_var
