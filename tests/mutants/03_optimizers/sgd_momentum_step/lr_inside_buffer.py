# MUTANT: learning rate inside the velocity (v = mu*v + lr*g; theta -= v), so the returned buffer is not torch's
def sgd_momentum_step(param, grad, buf, lr, momentum=0.9, nesterov=False):
    new_buf = momentum * buf + lr * grad
    direction = lr * grad + momentum * new_buf if nesterov else new_buf
    return param - direction, new_buf
