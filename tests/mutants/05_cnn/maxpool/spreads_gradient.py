# MUTANT: backward spreads each window's gradient evenly (the average-pooling gradient)
def maxpool2d_forward(x, k):
    """Non-overlapping k x k max pooling of x, shape (N, C, H, W) -> (N, C, H // k, W // k)."""
    N, C, H, W = x.shape
    if H % k or W % k:
        raise ValueError(f"height and width must be multiples of k = {k}, got {H} x {W}")
    return x.reshape(N, C, H // k, k, W // k, k).max(axis=(3, 5))


def maxpool2d_backward(grad_out, x, k):
    """dL/dx for y = maxpool2d_forward(x, k), given grad_out = dL/dy."""
    N, C, H, W = x.shape
    if H % k or W % k:
        raise ValueError(f"height and width must be multiples of k = {k}, got {H} x {W}")
    return np.repeat(np.repeat(grad_out, k, axis=2), k, axis=3) / (k * k)
