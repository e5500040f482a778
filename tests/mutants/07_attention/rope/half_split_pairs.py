# MUTANT: rotates the pairs (i, i + d/2) (the "rotate half" layout) instead of (2i, 2i + 1)
def rope(x, positions, base=10000.0):
    *lead, T, d = x.shape
    positions = np.asarray(positions, dtype=np.float64)
    if d % 2 or positions.shape != (T,):
        raise ValueError(f"x {x.shape}, positions {positions.shape}")
    theta = base ** (-np.arange(0, d, 2) / d)
    angle = positions[:, None] * theta
    cos, sin = np.cos(angle).astype(x.dtype), np.sin(angle).astype(x.dtype)
    first, second = x[..., : d // 2], x[..., d // 2 :]
    return np.concatenate([first * cos - second * sin, first * sin + second * cos], -1)
