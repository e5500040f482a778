# MUTANT: reads the first two gate blocks as (z, r) instead of PyTorch's (r, z)
def gru_cell(x, h, W_ih, W_hh, b_ih, b_hh):
    """One GRU step in PyTorch's gate order (r, z, n): returns h_new."""
    H = h.shape[1]
    gi = x @ W_ih.T + b_ih
    gh = h @ W_hh.T + b_hh
    sig = lambda a: 1.0 / (1.0 + np.exp(-a))
    z = sig(gi[:, :H] + gh[:, :H])
    r = sig(gi[:, H:2 * H] + gh[:, H:2 * H])
    n = np.tanh(gi[:, 2 * H:] + r * gh[:, 2 * H:])
    return (1.0 - z) * n + z * h
