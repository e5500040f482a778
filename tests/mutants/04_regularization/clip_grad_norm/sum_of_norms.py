# MUTANT: global norm computed as the sum of the per-array norms
def clip_grad_norm(grads, max_norm):
    """Scale all gradients by one common factor so that their global 2-norm is at most max_norm."""
    total = sum(float(np.sqrt(np.sum(np.square(g)))) for g in grads)
    coef = min(1.0, max_norm / (total + 1e-6))
    return [g * coef for g in grads], total
