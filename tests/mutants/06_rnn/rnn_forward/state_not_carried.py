# MUTANT: uses h0 at every step instead of the previous hidden state
def rnn_forward(xs, h0, W_ih, W_hh, b):
    """Hidden states h_1..h_T, shape (T, N, H), of a tanh RNN run over xs (T, N, I) from h0 (N, H)."""
    T, N, I = xs.shape
    H = W_hh.shape[0]
    if W_ih.shape != (H, I) or W_hh.shape != (H, H) or h0.shape != (N, H) or b.shape != (H,):
        raise ValueError(f"shapes do not fit: xs {xs.shape}, h0 {h0.shape}, W_ih {W_ih.shape}, W_hh {W_hh.shape}")
    hs = np.empty((T, N, H))
    for t in range(T):
        hs[t] = np.tanh(xs[t] @ W_ih.T + h0 @ W_hh.T + b)
    return hs
