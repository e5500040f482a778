# MUTANT: returns only the local derivative: forgets to multiply by grad_out (chain rule)
def tanh_backward(x, grad_out):
    """dL/dx for out = tanh(x), given grad_out = dL/dout."""
    t = np.tanh(x)
    return 1.0 - t * t


def log_backward(x, grad_out):
    """dL/dx for out = log(x)."""
    return 1.0 / x


def pow_backward(x, p, grad_out):
    """dL/dx for out = x ** p (p a constant number)."""
    return p * np.power(x, p - 1)


def div_backward(a, b, grad_out):
    """(dL/da, dL/db) for out = a / b."""
    return 1.0 / b, -a / (b * b)
