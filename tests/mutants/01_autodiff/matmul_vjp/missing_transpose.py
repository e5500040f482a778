# MUTANT: forgets to transpose B when forming dA: grad_out @ B instead of grad_out @ B^T
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
    dA = grad_out @ B
    dB = np.swapaxes(A, -1, -2) @ grad_out
    return unbroadcast(dA, A.shape), unbroadcast(dB, B.shape)
