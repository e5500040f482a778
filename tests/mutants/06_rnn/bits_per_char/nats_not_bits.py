# MUTANT: returns the cross-entropy in nats (forgets to divide by ln 2)
def bits_per_char(logits, targets):
    """Mean cross-entropy of the targets under softmax(logits), in bits."""
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(-log_probs[np.arange(len(targets)), targets].mean())
