# MUTANT: treats p as the KEEP probability (keeps u < p, scales by 1/p)
def dropout_forward(x, p, train, rng):
    """Inverted dropout (p = probability of dropping). Returns (out, mask), out = x * mask."""
    if not train:
        mask = np.ones_like(x)
    elif p <= 0.0:
        mask = np.zeros_like(x)
    else:
        mask = (rng.random(x.shape) < p) / p
    return x * mask, mask


def dropout_backward(grad_out, mask):
    """dL/dx of inverted dropout, given dL/dout and the forward pass's mask."""
    return grad_out * mask
