# MUTANT: writes a pre-activation block, s(x) + F(ReLU(x)), with no ReLU after the addition
def residual_block(x, W1, b1, W2, b2, Ws=None):
    if Ws is None and W2.shape[0] != x.shape[1]:
        raise ValueError("an identity shortcut needs d_in == d_out")
    a = np.maximum(x, 0)
    branch = np.maximum(a @ W1.T + b1, 0) @ W2.T + b2
    shortcut = x if Ws is None else x @ Ws.T
    return (branch + shortcut).astype(x.dtype)
