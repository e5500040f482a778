# MUTANT: depth-first post-order with a plain "seen" set: never notices a cycle, so no ValueError
def topological_sort(parents):
    nodes = list(dict.fromkeys([*parents, *(p for ps in parents.values() for p in ps)]))
    order, seen = [], set()
    for root in nodes:
        stack = [(root, False)]
        while stack:
            node, done = stack.pop()
            if done:
                order.append(node)
            elif node not in seen:
                seen.add(node)
                stack.append((node, True))
                stack.extend((p, False) for p in parents.get(node, ()))
    return order
