# MUTANT: kept units are not rescaled by 1/(1-p) (plain dropout in training, nothing at test)
def dropout_forward(x, p, train, rng):
    """Inverted dropout (p = probability of dropping). Returns (out, mask), out = x * mask."""
    if not train:
        mask = np.ones_like(x)
    else:
        mask = (rng.random(x.shape) >= p).astype(float)
    return x * mask, mask


def dropout_backward(grad_out, mask):
    """dL/dx of inverted dropout, given dL/dout and the forward pass's mask."""
    return grad_out * mask
