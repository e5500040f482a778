# MUTANT: unbroadcast sums the added leading axes but forgets axes stretched from size 1
def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`, undoing NumPy broadcasting."""
    grad = np.asarray(grad)
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    return grad


def matmul_vjp(A, B, grad_out):
    """(dL/dA, dL/dB) for C = A @ B (batched, broadcasting), given grad_out = dL/dC."""
    dA = grad_out @ np.swapaxes(B, -1, -2)
    dB = np.swapaxes(A, -1, -2) @ grad_out
    return unbroadcast(dA, A.shape), unbroadcast(dB, B.shape)
