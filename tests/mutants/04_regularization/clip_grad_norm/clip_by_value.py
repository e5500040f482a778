# MUTANT: clips every entry to [-max_norm, max_norm] (by value, not by norm)
def clip_grad_norm(grads, max_norm):
    """Scale all gradients by one common factor so that their global 2-norm is at most max_norm."""
    total = math.sqrt(sum(float(np.sum(np.square(g))) for g in grads))
    return [np.clip(g, -max_norm, max_norm) for g in grads], total
