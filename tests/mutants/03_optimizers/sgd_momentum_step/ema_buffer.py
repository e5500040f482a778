# MUTANT: momentum buffer as an exponential moving average, b = mu*b + (1 - mu)*g (dampening), unlike torch.optim.SGD
def sgd_momentum_step(param, grad, buf, lr, momentum=0.9, nesterov=False):
    new_buf = momentum * buf + (1 - momentum) * grad
    direction = grad + momentum * new_buf if nesterov else new_buf
    return param - lr * direction, new_buf
