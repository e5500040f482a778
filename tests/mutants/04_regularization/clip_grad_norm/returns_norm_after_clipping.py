# MUTANT: returns the norm after clipping instead of before
def clip_grad_norm(grads, max_norm):
    """Scale all gradients by one common factor so that their global 2-norm is at most max_norm."""
    total = math.sqrt(sum(float(np.sum(np.square(g))) for g in grads))
    coef = min(1.0, max_norm / (total + 1e-6))
    clipped = [g * coef for g in grads]
    return clipped, math.sqrt(sum(float(np.sum(np.square(g))) for g in clipped))
