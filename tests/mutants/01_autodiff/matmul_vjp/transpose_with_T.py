# MUTANT: uses .T, which reverses all axes, instead of swapping the last two (right only for 2-D)
def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`, undoing NumPy broadcasting."""
    grad = np.asarray(grad)
    extra = grad.ndim - len(shape)
    if extra > 0:
        grad = grad.sum(axis=tuple(range(extra)))
    stretched = tuple(i for i, size in enumerate(shape) if size == 1 and grad.shape[i] != 1)
    if stretched:
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad.reshape(shape)


def matmul_vjp(A, B, grad_out):
    """(dL/dA, dL/dB) for C = A @ B (batched, broadcasting), given grad_out = dL/dC."""
    dA = grad_out @ B.T
    dB = A.T @ grad_out
    return unbroadcast(dA, A.shape), unbroadcast(dB, B.shape)
