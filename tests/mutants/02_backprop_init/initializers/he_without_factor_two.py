# MUTANT: He initialisation without the factor 2 for ReLU (LeCun's 1 / fan_in)
def xavier_uniform(fan_in, fan_out, rng):
    """Glorot/Xavier uniform weights of shape (fan_in, fan_out), drawn with the numpy Generator rng."""
    bound = np.sqrt(6.0 / (fan_in + fan_out))
    return rng.uniform(-bound, bound, size=(fan_in, fan_out))


def he_normal(fan_in, fan_out, rng):
    """He/Kaiming normal weights (fan-in mode, ReLU) of shape (fan_in, fan_out), drawn with rng."""
    return rng.normal(0.0, np.sqrt(1.0 / fan_in), size=(fan_in, fan_out))
