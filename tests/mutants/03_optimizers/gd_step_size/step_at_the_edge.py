# MUTANT: returns the stability edge 2/L as the step size instead of the safe 1/L
def gd_step_size(X):
    L = float(np.linalg.eigvalsh(X.T @ X / X.shape[0]).max())
    return L, 2.0 / L
