# MUTANT: multiplies the jump by the stride before adding the layer's taps
def receptive_field(layers):
    """(receptive field, jump) of the last layer of a stack of (kernel, stride, dilation) layers."""
    r, j = 1, 1
    for layer in layers:
        k, s, d = layer
        if any(int(v) != v or v < 1 for v in (k, s, d)):
            raise ValueError(f"kernel, stride and dilation must be positive integers, got {layer}")
        j *= int(s)
        r += (int(k) - 1) * int(d) * j
    return r, j
