# MUTANT: gradient of the summed loss (no division by the batch size)
def sgd_step(params, X, y, lr):
    """One SGD step on the mean softmax cross-entropy of a 2-layer ReLU MLP; returns (loss, new_params)."""
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    n = X.shape[0]
    rows = np.arange(n)
    z1 = X @ W1 + b1
    h = np.maximum(z1, 0.0)
    logits = h @ W2 + b2
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(shifted).sum(axis=1))
    loss = float(np.mean(log_sum - shifted[rows, y]))
    dlogits = np.exp(shifted - log_sum[:, None])
    dlogits[rows, y] -= 1.0
    dz1 = (dlogits @ W2.T) * (z1 > 0)
    grads = {"W1": X.T @ dz1, "b1": dz1.sum(axis=0), "W2": h.T @ dlogits, "b2": dlogits.sum(axis=0)}
    return loss, {k: params[k] - lr * grads[k] for k in ("W1", "b1", "W2", "b2")}
