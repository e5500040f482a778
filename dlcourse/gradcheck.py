"""Central-difference gradient checking (float64 only: float32 rounding swamps the test)."""

import numpy as np


def _as_float64(x, name="x"):
    x = np.asarray(x)
    if x.dtype != np.float64:
        raise TypeError(
            f"{name} must be a float64 array for a meaningful gradient check, got dtype {x.dtype}"
        )
    return x


def numerical_gradient(f, x, eps: float = 1e-6) -> np.ndarray:
    """d f / d x by central differences, (f(x + eps e_i) - f(x - eps e_i)) / (2 eps), one entry at a time.

    ``f`` maps an array shaped like ``x`` to a scalar. ``x`` is restored afterwards.
    """
    x = _as_float64(x)
    if eps <= 0:
        raise ValueError(f"eps must be positive, got {eps!r}")
    grad = np.zeros_like(x)
    flat, gflat = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + eps
        plus = float(f(x))
        flat[i] = saved - eps
        minus = float(f(x))
        flat[i] = saved
        gflat[i] = (plus - minus) / (2 * eps)
    return grad


def relative_error(a, b) -> float:
    """max |a - b| / max(|a| + |b|): scale-free, 0 for identical arrays."""
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(
            f"relative_error wants two arrays of the same shape, got {a.shape} and {b.shape}"
        )
    denom = np.max(np.abs(a) + np.abs(b)) if a.size else 0.0
    return 0.0 if denom == 0 else float(np.max(np.abs(a - b)) / denom)


def gradient_check(f, x, analytic_grad, eps: float = 1e-6) -> float:
    """Relative error between ``analytic_grad`` and the numerical gradient of ``f`` at ``x``.

    Below about 1e-7 the analytic gradient is right; above 1e-3 it is almost
    certainly wrong (unless ``x`` sits on a kink such as ReLU at 0).
    """
    x = _as_float64(x)
    analytic_grad = np.asarray(analytic_grad, dtype=np.float64)
    if analytic_grad.shape != x.shape:
        raise ValueError(
            f"analytic_grad must have the shape of x, {x.shape}, got {analytic_grad.shape}"
        )
    return relative_error(analytic_grad, numerical_gradient(f, x, eps))
