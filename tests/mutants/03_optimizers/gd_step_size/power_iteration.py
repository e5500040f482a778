# MUTANT: 100 power iterations from a vector of ones: slow when the top two eigenvalues are close, and stuck when the start is orthogonal to the top eigenvector
def gd_step_size(X):
    """Smoothness constant L of f(w) = ||X w - y||^2 / (2
    n) and the step size 1 / L. Returns (L, lr)."""
    H = X.T @ X / X.shape[0]
    v = np.ones(H.shape[0])
    for _ in range(100):
        v = H @ v
        v = v / np.linalg.norm(v)
    L = float(v @ H @ v)
    return L, 1.0 / L
