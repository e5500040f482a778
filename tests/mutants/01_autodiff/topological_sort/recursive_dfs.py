# MUTANT: recursive depth-first search with cycle detection: right on small graphs, but deep graphs hit the recursion limit
def topological_sort(parents):
    nodes = list(dict.fromkeys([*parents, *(p for ps in parents.values() for p in ps)]))
    order, done, active = [], set(), set()

    def visit(node):
        if node in done:
            return
        if node in active:
            raise ValueError(f"cycle through {node!r}")
        active.add(node)
        for p in parents.get(node, ()):
            visit(p)
        active.discard(node)
        done.add(node)
        order.append(node)

    for n in nodes:
        visit(n)
    return order
