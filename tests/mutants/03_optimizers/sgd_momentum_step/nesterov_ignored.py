# MUTANT: nesterov=True is ignored: always steps along the buffer (heavy ball)
def sgd_momentum_step(param, grad, buf, lr, momentum=0.9, nesterov=False):
    new_buf = momentum * buf + grad
    return param - lr * new_buf, new_buf
