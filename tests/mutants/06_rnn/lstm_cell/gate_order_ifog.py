# MUTANT: reads the gates in the order i, f, o, g (a common layout elsewhere, not PyTorch's)
def lstm_cell(x, h, c, W_ih, W_hh, b):
    """One LSTM step in PyTorch's gate order (i, f, g, o): returns (h_new, c_new)."""
    H = h.shape[1]
    a = x @ W_ih.T + h @ W_hh.T + b
    sig = lambda z: 1.0 / (1.0 + np.exp(-z))
    i, f, o, g = sig(a[:, :H]), sig(a[:, H:2 * H]), sig(a[:, 2 * H:3 * H]), np.tanh(a[:, 3 * H:])
    c_new = f * c + i * g
    return o * np.tanh(c_new), c_new
