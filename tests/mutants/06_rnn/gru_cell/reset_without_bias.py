# MUTANT: the reset gate multiplies W_hn h only, and b_hn is added outside it
def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    """One GRU step in PyTorch's gate order (r, z, n): returns h_new."""
    H = h.shape[1]
    gi = x @ W_ih.T + b_ih
    gh_w = h @ W_hh.T
    sig = lambda a: 1.0 / (1.0 + np.exp(-a))
    r = sig(gi[:, :H] + gh_w[:, :H] + b_hh[:H])
    z = sig(gi[:, H:2 * H] + gh_w[:, H:2 * H] + b_hh[H:2 * H])
    n = np.tanh(gi[:, 2 * H:] + r * gh_w[:, 2 * H:] + b_hh[2 * H:])
    return (1.0 - z) * n + z * h
