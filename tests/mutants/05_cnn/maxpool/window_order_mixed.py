# MUTANT: reshapes into windows without moving the window axes together (mixes rows of different windows)
def maxpool2d_forward(x, k):
    """Non-overlapping k x k max pooling of x, shape (N, C, H, W) -> (N, C, H // k, W // k)."""
    N, C, H, W = x.shape
    if H % k or W % k:
        raise ValueError(f"height and width must be multiples of k = {k}, got {H} x {W}")
    return x.reshape(N, C, H // k, W // k, k * k).max(axis=-1)


def maxpool2d_backward(grad_out, x, k):
    """dL/dx for y = maxpool2d_forward(x, k), given grad_out = dL/dy."""
    N, C, H, W = x.shape
    if H % k or W % k:
        raise ValueError(f"height and width must be multiples of k = {k}, got {H} x {W}")
    windows = x.reshape(N, C, H // k, W // k, k * k)
    winner = windows.argmax(axis=-1)
    grad = np.zeros_like(windows)
    np.put_along_axis(grad, winner[..., None], grad_out[..., None], axis=-1)
    return grad.reshape(N, C, H, W)
