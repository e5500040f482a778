# MUTANT: computes softmax without subtracting the maximum (overflows for large logits)
def smoothed_cross_entropy(logits, y, alpha):
    """Mean label-smoothed cross-entropy and its gradient. Returns (loss, dlogits)."""
    n, k = logits.shape
    e = np.exp(logits)
    p = e / e.sum(axis=1, keepdims=True)
    target = np.full((n, k), alpha / k)
    target[np.arange(n), y] += 1.0 - alpha
    loss = -(target * np.log(p)).sum() / n
    return float(loss), (p - target) / n
