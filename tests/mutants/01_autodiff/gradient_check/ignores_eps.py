# MUTANT: hard-codes the step 1e-6 and ignores the eps argument
def relative_gradient_error(f, x, analytic_grad, eps=1e-6):
    """Relative error between analytic_grad and a central-difference gradient of f at x."""
    x = np.array(x, dtype=np.float64)              # a private copy: the caller's x is never touched
    numeric = np.zeros_like(x)
    eps = 1e-6
    flat, nflat = x.reshape(-1), numeric.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + eps
        plus = float(f(x))
        flat[i] = saved - eps
        minus = float(f(x))
        flat[i] = saved
        nflat[i] = (plus - minus) / (2 * eps)
    g = np.asarray(analytic_grad, dtype=np.float64)
    return float(np.linalg.norm(g - numeric) / max(np.linalg.norm(g) + np.linalg.norm(numeric), 1e-12))
