# MUTANT: places the kernel flipped (the matrix of a true convolution)
def conv2d_matrix(w, H, W):
    """The matrix T with T @ x.ravel() == valid cross-correlation of x (H x W) with w (kh x kw), raveled."""
    kh, kw = w.shape
    if kh > H or kw > W:
        raise ValueError(f"a {kh} x {kw} kernel does not fit in a {H} x {W} input")
    w = w[::-1, ::-1]
    Ho, Wo = H - kh + 1, W - kw + 1
    T = np.zeros((Ho * Wo, H * W))
    for i in range(Ho):
        for j in range(Wo):
            for a in range(kh):
                start = (i + a) * W + j
                T[i * Wo + j, start:start + kw] = w[a]
    return T
