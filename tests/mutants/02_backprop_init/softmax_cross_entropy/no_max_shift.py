# MUTANT: softmax without subtracting the row maximum: exp overflows for large logits
def softmax_cross_entropy(logits, y):
    """Mean softmax cross-entropy of integer labels y (N,) under logits (N, K), and its gradient (N, K)."""
    logits = np.asarray(logits, dtype=np.float64)
    y = np.asarray(y)
    n = logits.shape[0]
    rows = np.arange(n)
    shifted = logits.copy()       # a new array: logits stay untouched
    log_sum = np.log(np.exp(shifted).sum(axis=1))              # log sum exp, at most log K
    loss = float(np.mean(log_sum - shifted[rows, y]))
    grad = np.exp(shifted - log_sum[:, None])                  # softmax probabilities
    grad[rows, y] -= 1.0
    return loss, grad / n
