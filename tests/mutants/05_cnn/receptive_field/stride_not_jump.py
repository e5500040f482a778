# MUTANT: spaces the new taps by the layer's own stride instead of the accumulated jump
def receptive_field(layers):
    """(receptive field, jump) of the last layer of a stack of (kernel, stride, dilation) layers."""
    r, j = 1, 1
    for layer in layers:
        k, s, d = layer
        if any(int(v) != v or v < 1 for v in (k, s, d)):
            raise ValueError(f"kernel, stride and dilation must be positive integers, got {layer}")
        r += (int(k) - 1) * int(d) * int(s)
        j *= int(s)
    return r, j
