# MUTANT: one-sided forward differences (f(x + eps) - f(x)) / eps instead of central differences
def relative_gradient_error(f, x, analytic_grad, eps=1e-6):
    """Relative error between analytic_grad and a central-difference gradient of f at x."""
    x = np.array(x, dtype=np.float64)              # a private copy: the caller's x is never touched
    numeric = np.zeros_like(x)
    flat, nflat = x.reshape(-1), numeric.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + eps
        plus = float(f(x))
        flat[i] = saved
        minus = float(f(x))
        nflat[i] = (plus - minus) / eps
    g = np.asarray(analytic_grad, dtype=np.float64)
    return float(np.linalg.norm(g - numeric) / max(np.linalg.norm(g) + np.linalg.norm(numeric), 1e-12))
