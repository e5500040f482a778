# MUTANT: db taken from the first row of dout only
def linear_backward(x, W, b, dout):
    """Gradients (dx, dW, db) of L for out = x @ W + b, given dout = dL/dout of shape (N, n_out)."""
    dx = dout @ W.T
    dW = x.T @ dout
    db = dout[0].copy()
    return dx, dW, db
