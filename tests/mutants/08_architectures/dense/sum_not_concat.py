# MUTANT: treats the block as residual (adds each layer's output to its input) instead of concatenating: every layer reads c0 channels
def dense_block_channels(c0, growth, n_layers):
    return [c0] * n_layers, c0


def dense_block_params(c0, growth, n_layers, k=3):
    return n_layers * (2 * c0 + k * k * c0 * growth)
