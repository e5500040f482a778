# MUTANT: the depthwise step sums over input channels (a standard convolution with shared kernels)
def separable_conv2d(x, w_depth, w_point):
    """Depthwise (one k x k kernel per channel) then pointwise (1 x 1) convolution of x, shape (C, H, W)."""
    C, H, W = x.shape
    k = w_depth.shape[-1]
    Ho, Wo = H - k + 1, W - k + 1
    depth = np.zeros((C, Ho, Wo))
    for a in range(k):
        for b in range(k):
            depth += (w_depth[:, a, b, None, None] * x[:, a:a + Ho, b:b + Wo]).sum(axis=0)
    return np.tensordot(w_point, depth, axes=(1, 0))
