# MUTANT: product rule keeps only one term: (ab)' = a'b
class Dual:
    """A dual number val + dot * eps with eps**2 = 0."""

    def __init__(self, val, dot=0.0):
        self.val = float(val)
        self.dot = float(dot)

    def __add__(self, other):
        other = other if isinstance(other, Dual) else Dual(other)
        return Dual(self.val + other.val, self.dot + other.dot)

    def __radd__(self, other):
        return self + other

    def __neg__(self):
        return Dual(-self.val, -self.dot)

    def __sub__(self, other):
        return self + (-other)

    def __rsub__(self, other):
        return (-self) + other

    def __mul__(self, other):
        other = other if isinstance(other, Dual) else Dual(other)
        return Dual(self.val * other.val, self.dot * other.val)

    def __rmul__(self, other):
        return self * other

    def __truediv__(self, other):
        other = other if isinstance(other, Dual) else Dual(other)
        return Dual(self.val / other.val,
                    (self.dot * other.val - self.val * other.dot) / other.val ** 2)

    def __rtruediv__(self, other):
        return Dual(other) / self

    def sin(self):
        return Dual(math.sin(self.val), math.cos(self.val) * self.dot)

    def exp(self):
        e = math.exp(self.val)
        return Dual(e, e * self.dot)


def derivative(f, x):
    """f'(x) by one forward-mode pass with dual numbers."""
    out = f(Dual(x, 1.0))
    return out.dot if isinstance(out, Dual) else 0.0
