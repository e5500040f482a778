# MUTANT: db averaged over the batch instead of summed
def linear_backward(x, W, b, dout):
    """Gradients (dx, dW, db) of L for out = x @ W + b, given dout = dL/dout of shape (N, n_out)."""
    dx = dout @ W.T
    dW = x.T @ dout
    db = dout.mean(axis=0)
    return dx, dW, db
