# MUTANT: only the dictionary keys are treated as nodes; nodes that appear only as parents are dropped
def topological_sort(parents):
    nodes = list(parents)
    waiting = {n: len({p for p in parents[n] if p in parents}) for n in nodes}
    children = {n: [] for n in nodes}
    for n in nodes:
        for p in set(parents[n]):
            if p in children:
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
    return order
