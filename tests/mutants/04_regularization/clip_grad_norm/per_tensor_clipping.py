# MUTANT: clips each gradient array by its own norm instead of the global norm
def clip_grad_norm(grads, max_norm):
    """Scale all gradients by one common factor so that their global 2-norm is at most max_norm."""
    total = math.sqrt(sum(float(np.sum(np.square(g))) for g in grads))
    clipped = []
    for g in grads:
        n = float(np.sqrt(np.sum(np.square(g))))
        clipped.append(g * min(1.0, max_norm / (n + 1e-6)))
    return clipped, total
