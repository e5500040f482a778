# MUTANT: batched matmul gradients returned without summing over broadcast batch axes
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
    dA = grad_out @ np.swapaxes(B, -1, -2)
    dB = np.swapaxes(A, -1, -2) @ grad_out
    return dA, dB
