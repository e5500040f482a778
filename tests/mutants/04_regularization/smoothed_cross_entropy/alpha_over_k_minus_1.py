# MUTANT: smooths with 1 - alpha on the correct class and alpha / (K - 1) on the others
def smoothed_cross_entropy(logits, y, alpha):
    """Mean label-smoothed cross-entropy and its gradient. Returns (loss, dlogits)."""
    n, k = logits.shape
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    target = np.full((n, k), alpha / (k - 1))
    target[np.arange(n), y] = 1.0 - alpha
    loss = -(target * log_p).sum() / n
    return float(loss), (np.exp(log_p) - target) / n
