# MUTANT: Kahn's algorithm that counts a repeated parent twice but releases it once, so x * x looks like a cycle
def topological_sort(parents):
    nodes = list(dict.fromkeys([*parents, *(p for ps in parents.values() for p in ps)]))
    waiting = {n: len(parents.get(n, ())) for n in nodes}
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
        raise ValueError("the graph has a cycle")
    return order
