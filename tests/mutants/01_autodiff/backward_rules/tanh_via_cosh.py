# MUTANT: tanh rule as 1 / cosh(x)^2: right on paper, overflows for large |x|
def tanh_backward(x, grad_out):
    """dL/dx for out = tanh(x), given grad_out = dL/dout."""
    return grad_out / np.cosh(x) ** 2


def log_backward(x, grad_out):
    """dL/dx for out = log(x)."""
    return grad_out / x


def pow_backward(x, p, grad_out):
    """dL/dx for out = x ** p (p a constant number)."""
    return p * np.power(x, p - 1) * grad_out


def div_backward(a, b, grad_out):
    """(dL/da, dL/db) for out = a / b."""
    return grad_out / b, -grad_out * a / (b * b)
