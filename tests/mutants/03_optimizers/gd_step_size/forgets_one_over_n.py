# MUTANT: Hessian taken as X^T X, forgetting the 1/n of the mean
def gd_step_size(X):
    L = float(np.linalg.eigvalsh(X.T @ X).max())
    return L, 1.0 / L
