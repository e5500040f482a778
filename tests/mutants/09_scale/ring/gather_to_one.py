# MUTANT: the naive scheme: every worker sends its whole array to worker 0, which sends the sum back
def ring_all_reduce(arrays):
    n = len(arrays)
    total = np.sum(np.stack(arrays), axis=0).astype(arrays[0].dtype)
    size = arrays[0].nbytes
    sent = [(n - 1) * size] + [size] * (n - 1)
    return [total.copy() for _ in range(n)], sent
