# MUTANT: log of a softmax computed without subtracting the maximum (overflows for large logits)
def bits_per_char(logits, targets):
    """Mean cross-entropy of the targets under softmax(logits), in bits."""
    with np.errstate(all="ignore"):
        probs = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
        return float(-np.log2(probs[np.arange(len(targets)), targets]).mean())
