# MUTANT: dW divided by the batch size a second time
def linear_backward(x, W, b, dout):
    """Gradients (dx, dW, db) of L for out = x @ W + b, given dout = dL/dout of shape (N, n_out)."""
    dx = dout @ W.T
    dW = x.T @ dout / x.shape[0]
    db = dout.sum(axis=0)
    return dx, dW, db
