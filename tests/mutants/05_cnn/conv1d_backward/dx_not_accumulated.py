# MUTANT: overwrites dx for each tap instead of accumulating (= instead of +=)
def conv1d_backward(x, w, grad_out):
    """(dx, dw, db) of y = conv1d(x, w) + b, for x (C_in, L), w (C_out, C_in, K), grad_out (C_out, L-K+1)."""
    C_out, C_in, K = w.shape
    L_out = x.shape[1] - K + 1
    if grad_out.shape != (C_out, L_out):
        raise ValueError(f"grad_out must have shape {(C_out, L_out)}, got {grad_out.shape}")
    dx, dw = np.zeros_like(x), np.empty_like(w)
    for k in range(K):
        window = x[:, k:k + L_out]
        dw[:, :, k] = grad_out @ window.T
        dx[:, k:k + L_out] = w[:, :, k].T @ grad_out
    return dx, dw, grad_out.sum(axis=1)
