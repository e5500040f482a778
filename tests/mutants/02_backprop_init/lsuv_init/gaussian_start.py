# MUTANT: skips the orthogonal start: rescales a plain Gaussian matrix
def lsuv_init(shapes, X, rng):
    """LSUV weights for the bias-free ReLU net h -> ReLU(h @ W) with layer shapes [(fan_in, fan_out), ...]."""
    weights = []
    h = np.asarray(X, dtype=np.float64)
    for layer, (fan_in, fan_out) in enumerate(shapes):
        q, r = np.linalg.qr(rng.normal(size=(max(fan_in, fan_out), min(fan_in, fan_out))))
        W = rng.normal(size=(fan_in, fan_out))
        W = W / (h @ W).std()                            # unit-variance pre-activation on this batch
        weights.append(W)
        z = h @ W
        h = z if layer == len(shapes) - 1 else np.maximum(z, 0.0)
    return weights
