# MUTANT: normalises each example over its features (axis 1, as layer norm does) instead of each feature over the batch
def batchnorm_forward(
    x, gamma, beta, running_mean, running_var, train, momentum=0.1, eps=1e-5
):
    """Batch norm over axis 0 as nn.BatchNorm1d. Returns
    (out, new_running_mean, new_running_var)."""
    if train:
        n = x.shape[0]
        mean, var = x.mean(axis=1, keepdims=True), x.var(axis=1, keepdims=True)
        new_mean = (1 - momentum) * running_mean + momentum * x.mean(axis=0)
        new_var = (1 - momentum) * running_var + momentum * x.var(axis=0) * n / (n - 1)
    else:
        mean, var = running_mean, running_var
        new_mean, new_var = running_mean.copy(), running_var.copy()
    out = gamma * (x - mean) / np.sqrt(var + eps) + beta
    return out, new_mean, new_var
