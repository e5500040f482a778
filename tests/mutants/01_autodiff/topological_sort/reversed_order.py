# MUTANT: returns the order the backward pass walks (outputs first), i.e. children before their parents
def topological_sort(parents):
    nodes = list(dict.fromkeys([*parents, *(p for ps in parents.values() for p in ps)]))
    waiting = {n: len(set(parents.get(n, ()))) for n in nodes}
    children = {n: [] for n in nodes}
    for n in nodes:
        for p in set(parents.get(n, ())):
            children[p].append(n)
    ready = [n for n in nodes if waiting[n] == 0]
    order = []
    while ready:
        n = ready.pop()
        order.append(n)
        for c in children[n]:
            waiting[c] -= 1
            if waiting[c] == 0:
                ready.append(c)
    if len(order) != len(nodes):
        raise ValueError("cycle")
    return order[::-1]
