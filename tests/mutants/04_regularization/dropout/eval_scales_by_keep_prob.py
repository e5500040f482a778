# MUTANT: inverted scaling in training AND multiplying by (1-p) at test time (mixes the two recipes)
def dropout_forward(x, p, train, rng):
    """Inverted dropout (p = probability of dropping). Returns (out, mask), out = x * mask."""
    if not train:
        mask = np.full_like(x, 1.0 - p)
    elif p >= 1.0:
        mask = np.zeros_like(x)
    else:
        mask = (rng.random(x.shape) >= p) / (1.0 - p)
    return x * mask, mask


def dropout_backward(grad_out, mask):
    """dL/dx of inverted dropout, given dL/dout and the forward pass's mask."""
    return grad_out * mask
