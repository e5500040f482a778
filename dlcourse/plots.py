"""Small plotting helpers: a computational-graph drawing and a decision boundary."""

import matplotlib.pyplot as plt
import numpy as np


def _layers(root, children):
    """Depth of every node = longest path from an input; returns {id: (node, depth)}."""
    nodes, depth = {}, {}

    def visit(node, stack):
        key = id(node)
        if key in stack:
            raise ValueError(
                "plot_graph: the graph has a cycle; a computational graph must be a DAG"
            )
        if key in depth:
            return depth[key]
        nodes[key] = node
        kids = list(children(node))
        d = 0 if not kids else 1 + max(visit(k, stack | {key}) for k in kids)
        depth[key] = d
        return d

    visit(root, frozenset())
    return nodes, depth


def plot_graph(root, children, label, ax=None):
    """Draw the DAG reachable from ``root`` left to right: inputs on the left, ``root`` on the right.

    ``children(node)`` returns the nodes that ``node`` was computed from, and
    ``label(node)`` the text to show in its box.
    """
    if not callable(children) or not callable(label):
        raise TypeError("plot_graph wants callables children(node) and label(node)")
    nodes, depth = _layers(root, children)
    columns = {}
    for key in nodes:
        columns.setdefault(depth[key], []).append(key)
    pos = {}
    for d, keys in columns.items():
        for i, key in enumerate(keys):
            pos[key] = (d, (len(keys) - 1) / 2 - i)
    if ax is None:
        width = 2.2 * (max(columns) + 1)
        height = 1.0 + 0.9 * max(len(k) for k in columns.values())
        _, ax = plt.subplots(figsize=(width, height))
    boxes = {}
    for key, node in nodes.items():
        x, y = pos[key]
        boxes[key] = ax.text(
            x,
            y,
            str(label(node)),
            ha="center",
            va="center",
            fontsize=9,
            zorder=3,
            bbox=dict(
                boxstyle="round,pad=0.4",
                fc="#fde9c9" if node is root else "#dbe9f6",
                ec="0.3",
            ),
        )
    for key, node in nodes.items():
        for kid in children(node):
            # patchA/patchB clip each arrow to the two label boxes, so wide labels never hide an arrowhead.
            ax.annotate(
                "",
                xy=pos[key],
                xytext=pos[id(kid)],
                zorder=4,  # after the boxes: their patches are placed
                arrowprops=dict(
                    arrowstyle="-|>",
                    color="0.35",
                    lw=1.2,
                    shrinkA=2,
                    shrinkB=2,
                    patchA=boxes[id(kid)].get_bbox_patch(),
                    patchB=boxes[key].get_bbox_patch(),
                ),
            )
    ax.set_xlim(-0.6, max(columns) + 0.6)
    ys = [p[1] for p in pos.values()]
    ax.set_ylim(min(ys) - 0.7, max(ys) + 0.7)
    ax.axis("off")
    return ax


def plot_decision_boundary(predict, X, y, ax=None, resolution: int = 200):
    """Colour the plane by ``predict`` (an (N, 2) array -> (N,) labels) and scatter the data on top."""
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim != 2 or X.shape[1] != 2:
        raise ValueError(
            f"plot_decision_boundary wants X of shape (N, 2), got {X.shape}"
        )
    if y.shape != (X.shape[0],):
        raise ValueError(
            f"plot_decision_boundary wants y of shape ({X.shape[0]},), got {y.shape}"
        )
    pad = 0.5
    xs = np.linspace(X[:, 0].min() - pad, X[:, 0].max() + pad, resolution)
    ys = np.linspace(X[:, 1].min() - pad, X[:, 1].max() + pad, resolution)
    gx, gy = np.meshgrid(xs, ys)
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1).astype(np.float64)
    zz = np.asarray(predict(grid)).reshape(gx.shape)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 4))
    ax.contourf(
        gx, gy, zz, alpha=0.3, cmap="coolwarm", levels=np.arange(zz.max() + 2) - 0.5
    )
    ax.scatter(X[:, 0], X[:, 1], c=y, cmap="coolwarm", edgecolors="k", s=18)
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    return ax
