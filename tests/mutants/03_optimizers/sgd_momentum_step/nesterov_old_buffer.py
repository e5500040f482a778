# MUTANT: Nesterov look-ahead uses the old buffer instead of the freshly updated one
def sgd_momentum_step(param, grad, buf, lr, momentum=0.9, nesterov=False):
    new_buf = momentum * buf + grad
    direction = grad + momentum * buf if nesterov else new_buf
    return param - lr * direction, new_buf
