# MUTANT: truncates BPTT to one step (ignores the gradient flowing back from later steps)
def rnn_backward(xs, h0, W_ih, W_hh, hs, dhs):
    """(dW_ih, dW_hh, db, dh0) for h_t = tanh(x_t W_ih^T + h_(t-1) W_hh^T + b), given dL/dh_t from the loss."""
    T = xs.shape[0]
    dW_ih, dW_hh, db = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])
    dh_prev = np.zeros_like(h0)
    for t in reversed(range(T)):
        da = dhs[t] * (1.0 - hs[t] ** 2)
        h_prev = hs[t - 1] if t > 0 else h0
        dW_ih += da.T @ xs[t]
        dW_hh += da.T @ h_prev
        db += da.sum(axis=0)
        dh_prev = da @ W_hh
    return dW_ih, dW_hh, db, dh_prev
