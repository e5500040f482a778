# MUTANT: rescales to max_norm even when the norm is already smaller
def clip_grad_norm(grads, max_norm):
    """Scale all gradients by one common factor so that their global 2-norm is at most max_norm."""
    total = math.sqrt(sum(float(np.sum(np.square(g))) for g in grads))
    coef = max_norm / (total + 1e-6)
    return [g * coef for g in grads], total
