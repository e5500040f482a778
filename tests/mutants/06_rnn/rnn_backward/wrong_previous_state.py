# MUTANT: pairs the step-t gradient with h_t instead of h_(t-1) in dW_hh
def rnn_backward(xs, h0, W_ih, W_hh, hs, dhs):
    """(dW_ih, dW_hh, db, dh0) for h_t = tanh(x_t W_ih^T + h_(t-1) W_hh^T + b), given dL/dh_t from the loss."""
    T = xs.shape[0]
    dW_ih, dW_hh, db = np.zeros_like(W_ih), np.zeros_like(W_hh), np.zeros(W_hh.shape[0])
    dh_next = np.zeros_like(h0)
    for t in reversed(range(T)):
        da = (dhs[t] + dh_next) * (1.0 - hs[t] ** 2)
        dW_ih += da.T @ xs[t]
        dW_hh += da.T @ hs[t]
        db += da.sum(axis=0)
        dh_next = da @ W_hh
    return dW_ih, dW_hh, db, dh_next
