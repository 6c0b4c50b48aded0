"""Minimum spanning tree of the mutual-reachability graph in ``O(n log n)`` (low dimensions).

HDBSCAN's mutual-reachability distance is ``max(core_i, core_j, d(i, j))``. Prim's
algorithm (scikit-learn's) examines every pair: ``O(n^2 d)``. Here Boruvka's algorithm
finds the same tree with a KD-tree: each round, every component gets its lightest edge to
another component, found by one pruned tree search per point; the components at least
halve each round, so there are ``O(log n)`` rounds of ``O(n log n)`` searches in low
dimensions. The search skips a KD-tree node when all its points are in the searching
point's component, or when ``max(core_i, min core in node, distance to its box)`` exceeds
the component's best edge so far (the scheme of McInnes and Healy 2017, single-tree).

Identical results to scikit-learn: pair distances are computed exactly as scikit-learn's
Euclidean ``DistanceMetric`` does (squared differences summed feature by feature, then a
square root), so every edge weight is the same float. The labels depend on the order in
which equal-weight edges enter the single-linkage tree, so the edges are then listed as
scikit-learn's Prim (from point 0) lists them: each step adds the point outside the tree
with the lowest ``(distance to the tree, index)``, by an edge from the earliest-added
point at that distance. Prim would give the same list when run on only the edges that
belong to some MST (a step's lightest edge leaving the tree always does), so it is run,
with a heap, on this MST plus every other edge that could replace one of its edges: an
edge whose ends are not joined by lighter MST edges and whose weight is an MST weight.
Such edges come from two places, which cover the ties seen in practice:

- a point's neighbour list (its ``max(min_samples) + 1`` nearest, plus every point tied
  at the last distance): where a point's core distance dominates, all its edges to
  points within that distance weigh the same, and the order among them decides which
  cluster a point between two clusters joins;
- copies of equal points: an edge between copies of ``u`` and ``v`` weighs what ``(u, v)``
  weighs, however far apart they are (up to :data:`MAX_COPY_EDGES_PER_POINT` such edges
  per point).

Equal pair distances between unrelated far-apart pairs (lattice data) are not searched:
there, an edge's start point or the order of equal merges can differ from Prim's. Boruvka
itself breaks ties by the total order ``(weight, smaller index, larger index)``, so its
result is always a spanning tree of minimum weight. The tests compare labels with
scikit-learn's on blobs, moons, lattice and duplicated data (identical throughout).

The compiled kernels use numba (a dependency of umap-learn) with ``cache=True``, in the
same persistent cache folder as sonotype's UMAP code, so they compile once per install.
"""

from __future__ import annotations

import numpy as np
from sklearn.neighbors import KDTree

from sonotype.numba_cache import point_numba_cache

#: Leaf size of the KD-tree, as :class:`sklearn.cluster.HDBSCAN`'s default, so that the core
#: distances from the same tree equal scikit-learn's bit for bit.
LEAF_SIZE = 40

#: scikit-learn's ``MST_edge_dtype``: one MST edge, as its Prim algorithm writes it.
MST_EDGE_DTYPE = np.dtype(
    [("current_node", np.int64), ("next_node", np.int64), ("distance", np.float64)]
)


# Before numba is imported below: its compiled kernels go to sonotype's per-user cache.
point_numba_cache()

import numba  # noqa: E402  (after the cache folder is chosen)


@numba.njit(cache=True, nogil=True)
def _find(parent, i):
    """Root of ``i`` in the union-find forest ``parent``, halving paths on the way."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i


@numba.njit(cache=True, nogil=True)
def _box_distance(X, i, lower, upper, node):
    """Euclidean distance from point ``i`` to the bounding box of ``node`` (a lower bound)."""
    total = 0.0
    for k in range(X.shape[1]):
        x = X[i, k]
        if x < lower[node, k]:
            gap = lower[node, k] - x
        elif x > upper[node, k]:
            gap = x - upper[node, k]
        else:
            gap = 0.0
        total += gap * gap
    return np.sqrt(total)


@numba.njit(cache=True, nogil=True)
def _boruvka(X, cores, starts, ends, is_leaf, lower, upper, first_a, first_b, first_w):
    """MST edges ``(a, b, weight)`` of the mutual-reachability graph of ``X`` (tree order).

    ``X`` and ``cores`` are in the KD-tree's point order; node ``k`` holds points
    ``starts[k]:ends[k]`` and has children ``2k + 1`` and ``2k + 2``. ``first_*`` are edges
    known to be the lightest from their first point (from its neighbour list), joined
    before the first search round.
    """
    n, d = X.shape
    n_nodes = starts.shape[0]
    parent = np.arange(n)
    size = np.ones(n, dtype=np.int64)
    comp = np.empty(n, dtype=np.int64)
    node_comp = np.empty(n_nodes, dtype=np.int64)
    node_min_core = np.empty(n_nodes)
    for node in range(n_nodes - 1, -1, -1):
        if is_leaf[node]:
            node_min_core[node] = cores[starts[node] : ends[node]].min()
        else:
            node_min_core[node] = min(node_min_core[2 * node + 1], node_min_core[2 * node + 2])
    best_w = np.empty(n)
    best_a = np.empty(n, dtype=np.int64)
    best_b = np.empty(n, dtype=np.int64)
    stack = np.empty(n_nodes + 1, dtype=np.int64)
    edge_a = np.empty(n - 1, dtype=np.int64)
    edge_b = np.empty(n - 1, dtype=np.int64)
    edge_w = np.empty(n - 1)
    n_edges = 0
    for e in range(first_a.shape[0]):
        ra, rb = _find(parent, first_a[e]), _find(parent, first_b[e])
        if ra == rb:
            continue
        if size[ra] < size[rb]:
            ra, rb = rb, ra
        parent[rb] = ra
        size[ra] += size[rb]
        edge_a[n_edges], edge_b[n_edges], edge_w[n_edges] = first_a[e], first_b[e], first_w[e]
        n_edges += 1
    while n_edges < n - 1:
        for i in range(n):
            comp[i] = _find(parent, i)
        # a node whose points all lie in one component: searches from it skip the node
        for node in range(n_nodes - 1, -1, -1):
            if is_leaf[node]:
                c = comp[starts[node]]
                for j in range(starts[node] + 1, ends[node]):
                    if comp[j] != c:
                        c = -1
                        break
                node_comp[node] = c
            else:
                c = node_comp[2 * node + 1]
                node_comp[node] = c if c == node_comp[2 * node + 2] else -1
        best_w[:] = np.inf
        best_a[:] = -1
        best_b[:] = -1
        for i in range(n):
            c = comp[i]
            core_i = cores[i]
            if core_i > best_w[c]:
                continue  # every edge of i weighs at least core_i
            top = 0
            stack[top] = 0
            top += 1
            while top > 0:
                top -= 1
                node = stack[top]
                if node_comp[node] == c:
                    continue
                if max(core_i, node_min_core[node]) > best_w[c]:
                    continue
                if _box_distance(X, i, lower, upper, node) > best_w[c]:
                    continue
                if is_leaf[node]:
                    for j in range(starts[node], ends[node]):
                        if comp[j] == c:
                            continue
                        total = 0.0
                        for k in range(d):
                            diff = X[i, k] - X[j, k]
                            total += diff * diff
                        w = max(core_i, max(cores[j], np.sqrt(total)))
                        a, b = min(i, j), max(i, j)
                        # the total order (weight, a, b): ties cannot make a cycle
                        if w < best_w[c] or (
                            w == best_w[c] and (a < best_a[c] or (a == best_a[c] and b < best_b[c]))
                        ):
                            best_w[c] = w
                            best_a[c] = a
                            best_b[c] = b
                else:
                    left, right = 2 * node + 1, 2 * node + 2
                    # search the nearer child first: its candidates prune the other
                    if _box_distance(X, i, lower, upper, left) <= _box_distance(
                        X, i, lower, upper, right
                    ):
                        stack[top] = right
                        stack[top + 1] = left
                    else:
                        stack[top] = left
                        stack[top + 1] = right
                    top += 2
        for c in range(n):
            if comp[c] != c or best_a[c] < 0:
                continue
            ra = _find(parent, best_a[c])
            rb = _find(parent, best_b[c])
            if ra == rb:
                continue  # the other component chose the same edge
            if size[ra] < size[rb]:
                ra, rb = rb, ra
            parent[rb] = ra
            size[ra] += size[rb]
            edge_a[n_edges] = best_a[c]
            edge_b[n_edges] = best_b[c]
            edge_w[n_edges] = best_w[c]
            n_edges += 1
    return edge_a, edge_b, edge_w


@numba.njit(cache=True, nogil=True)
def _light_edges(tree_a, tree_b, tree_w, cand_a, cand_b, cand_w, n):
    """Which candidate edges are light: in some MST (their ends not joined by lighter edges).

    Sweeps the MST's edges and the candidates by weight with a union-find: a candidate of
    weight ``w`` is light when its ends are in different components of the MST's edges
    lighter than ``w``.
    """
    parent = np.arange(n)
    tree_order = np.argsort(tree_w, kind="mergesort")
    cand_order = np.argsort(cand_w, kind="mergesort")
    keep = np.zeros(cand_w.shape[0], dtype=np.bool_)
    t = 0
    for c in cand_order:
        w = cand_w[c]
        while t < tree_order.shape[0] and tree_w[tree_order[t]] < w:
            e = tree_order[t]
            ra, rb = _find(parent, tree_a[e]), _find(parent, tree_b[e])
            if ra != rb:
                parent[rb] = ra
            t += 1
        keep[c] = _find(parent, cand_a[c]) != _find(parent, cand_b[c])
    return keep


@numba.njit(cache=True, nogil=True)
def _prim_order(n, edge_a, edge_b, edge_w):
    """Prim's algorithm from point 0 over the given edges, with scikit-learn's tie rules.

    ``edge_*`` hold every edge that is in some MST (at least one MST's edges plus every
    light edge of equal weight). Each step adds the point outside the tree with the lowest
    ``(distance to the tree, index)``; its edge starts at the earliest-added point at that
    distance, as in ``sklearn.cluster._hdbscan._linkage.mst_from_data_matrix``, which
    updates a point's distance only when strictly smaller. Returns ``(source, target,
    distance)`` in the order added.
    """
    m = edge_a.shape[0]
    degree = np.zeros(n + 1, dtype=np.int64)
    for e in range(m):
        degree[edge_a[e] + 1] += 1
        degree[edge_b[e] + 1] += 1
    offsets = np.cumsum(degree)
    fill = offsets[:-1].copy()
    neighbour = np.empty(2 * m, dtype=np.int64)
    weight = np.empty(2 * m)
    for e in range(m):
        a, b = edge_a[e], edge_b[e]
        neighbour[fill[a]] = b
        weight[fill[a]] = edge_w[e]
        fill[a] += 1
        neighbour[fill[b]] = a
        weight[fill[b]] = edge_w[e]
        fill[b] += 1
    source = np.empty(n - 1, dtype=np.int64)
    target = np.empty(n - 1, dtype=np.int64)
    distance = np.empty(n - 1)
    added = np.zeros(n, dtype=np.bool_)
    best = np.full(n, np.inf)
    best_source = np.full(n, -1, dtype=np.int64)
    # a lazy binary heap of (distance, point); stale entries are skipped when popped
    heap_w = np.empty(2 * m + 1)
    heap_j = np.empty(2 * m + 1, dtype=np.int64)
    size = 0
    current = 0
    for step in range(n - 1):
        added[current] = True
        for slot in range(offsets[current], offsets[current + 1]):
            j = neighbour[slot]
            w = weight[slot]
            if added[j] or not w < best[j]:
                continue
            best[j] = w
            best_source[j] = current
            k = size
            size += 1
            while k > 0:
                up = (k - 1) // 2
                if heap_w[up] < w or (heap_w[up] == w and heap_j[up] < j):
                    break
                heap_w[k], heap_j[k] = heap_w[up], heap_j[up]
                k = up
            heap_w[k], heap_j[k] = w, j
        while True:
            top_w, top_j = heap_w[0], heap_j[0]
            size -= 1
            w, j = heap_w[size], heap_j[size]
            k = 0
            while size > 0:
                child = 2 * k + 1
                if child >= size:
                    break
                if child + 1 < size and (
                    heap_w[child + 1] < heap_w[child]
                    or (heap_w[child + 1] == heap_w[child] and heap_j[child + 1] < heap_j[child])
                ):
                    child += 1
                if w < heap_w[child] or (w == heap_w[child] and j < heap_j[child]):
                    break
                heap_w[k], heap_j[k] = heap_w[child], heap_j[child]
                k = child
            if size > 0:
                heap_w[k], heap_j[k] = w, j
            if not added[top_j] and top_w == best[top_j]:
                break
        source[step], target[step], distance[step] = best_source[top_j], top_j, top_w
        current = top_j
    return source, target, distance


@numba.njit(cache=True, nogil=True)
def _candidate_edges(X, cores, indptr, indices):
    """Edges from every point ``i`` to the points ``indices[indptr[i]:indptr[i + 1]]``."""
    n = X.shape[0]
    count = 0
    for i in range(n):
        for c in range(indptr[i], indptr[i + 1]):
            if indices[c] != i:
                count += 1
    cand_a = np.empty(count, dtype=np.int64)
    cand_b = np.empty(count, dtype=np.int64)
    cand_w = np.empty(count)
    e = 0
    for i in range(n):
        for c in range(indptr[i], indptr[i + 1]):
            j = indices[c]
            if j == i:
                continue
            total = 0.0
            for f in range(X.shape[1]):
                diff = X[i, f] - X[j, f]
                total += diff * diff
            cand_a[e], cand_b[e] = i, j
            cand_w[e] = max(cores[i], max(cores[j], np.sqrt(total)))
            e += 1
    return cand_a, cand_b, cand_w


def kd_tree(X: np.ndarray) -> KDTree:
    """scikit-learn's KD-tree of ``X`` with HDBSCAN's leaf size."""
    return KDTree(X, leaf_size=LEAF_SIZE)


@numba.njit(cache=True, nogil=True)
def _copies_edges(edge_a, edge_b, edge_w, group, starts, members):
    """For each edge, the same edge between every copy of its ends (equal points)."""
    count = 0
    for e in range(edge_a.shape[0]):
        ga, gb = group[edge_a[e]], group[edge_b[e]]
        count += (starts[ga + 1] - starts[ga]) * (starts[gb + 1] - starts[gb])
    out_a = np.empty(count, dtype=np.int64)
    out_b = np.empty(count, dtype=np.int64)
    out_w = np.empty(count)
    k = 0
    for e in range(edge_a.shape[0]):
        ga, gb = group[edge_a[e]], group[edge_b[e]]
        for x in range(starts[ga], starts[ga + 1]):
            for y in range(starts[gb], starts[gb + 1]):
                if members[x] != members[y]:
                    out_a[k], out_b[k], out_w[k] = members[x], members[y], edge_w[e]
                    k += 1
    return out_a[:k], out_b[:k], out_w[:k]


#: Edges between copies of equal points are added only up to this many per point (beyond,
#: heavily repeated points could make the edge list quadratic).
MAX_COPY_EDGES_PER_POINT = 256


def _with_copies(X, edge_a, edge_b, edge_w):
    """Add, for each edge, the equal-weight edges between copies of its ends.

    Two equal points have equal core distances and equal distances to every other point,
    so an edge between copies weighs the same, however far apart the pair lies; the
    neighbour lists alone would miss these ties.
    """
    _, group, counts = np.unique(X, axis=0, return_inverse=True, return_counts=True)
    if counts.max() == 1:
        return edge_a, edge_b, edge_w
    group = group.reshape(-1).astype(np.int64)
    sizes = counts[group[edge_a]] * counts[group[edge_b]]
    if sizes.sum() > MAX_COPY_EDGES_PER_POINT * X.shape[0]:
        return edge_a, edge_b, edge_w
    members = np.argsort(group, kind="stable").astype(np.int64)
    starts = np.zeros(counts.shape[0] + 1, dtype=np.int64)
    np.cumsum(counts, out=starts[1:])
    return _copies_edges(edge_a, edge_b, edge_w, group, starts, members)


def _lightest_listed(cand_a, cand_w, last_distance):
    """Per point, its lightest listed edge, where no unlisted point can be as light.

    ``cand_a`` is sorted (rows of the neighbour lists); an unlisted point lies at least
    ``last_distance`` away, so its edge weighs at least that much. Returns the indices of
    the chosen candidates.
    """
    if cand_a.shape[0] == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.diff(cand_a, prepend=-1))
    lightest = np.minimum.reduceat(cand_w, starts)
    rows = cand_a[starts]
    is_min = cand_w == np.repeat(lightest, np.diff(np.append(starts, cand_a.shape[0])))
    first_min = np.flatnonzero(is_min)  # then the first of each row at the row's minimum
    first_min = first_min[np.unique(cand_a[first_min], return_index=True)[1]]
    keep = lightest < last_distance[rows]
    return first_min[keep]


class Neighbours:
    """Each point's nearest neighbours, enough to find every core-distance tie.

    Parameters
    ----------
    X : ndarray of float64, shape (n, d)
        The points.
    k : int
        The largest ``min_samples`` that will be asked for (``1 <= k <= n``).
    tree : sklearn.neighbors.KDTree, optional
        A KD-tree of ``X`` (built when absent).

    Attributes
    ----------
    tree : sklearn.neighbors.KDTree
    distances : ndarray, shape (n, min(k + 1, n))
        Sorted neighbour distances (the point itself first), from the KD-tree as
        :class:`sklearn.cluster.HDBSCAN` finds them.
    indptr, indices : ndarray of int64
        For point ``i``, ``indices[indptr[i]:indptr[i + 1]]``: its listed neighbours plus,
        where distances tie at its ``k``-th neighbour, every point at that distance.
    """

    def __init__(self, X: np.ndarray, k: int, *, tree: KDTree | None = None):
        n = X.shape[0]
        self.tree = kd_tree(X) if tree is None else tree
        width = min(k + 1, n)
        self.distances, index = self.tree.query(X, width, return_distance=True)
        index = index.astype(np.int64)
        lengths = np.full(n, width, dtype=np.int64)
        rows: dict[int, np.ndarray] = {}
        if width > k:
            # the (k+1)-th neighbour as far as the k-th: more may lie at that distance
            tied = np.flatnonzero(self.distances[:, k] == self.distances[:, k - 1])
            if tied.size:
                found = self.tree.query_radius(X[tied], self.distances[tied, k - 1])
                for i, row in zip(tied.tolist(), found, strict=True):
                    rows[i] = np.asarray(row, dtype=np.int64)
                    lengths[i] = row.shape[0]
        self.indptr = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=self.indptr[1:])
        if not rows:
            self.indices = index.reshape(-1)
        else:
            self.indices = np.empty(self.indptr[-1], dtype=np.int64)
            for i in range(n):
                row = rows.get(i)
                self.indices[self.indptr[i] : self.indptr[i + 1]] = index[i] if row is None else row

    def core_distances(self, min_samples: int) -> np.ndarray:
        """Each point's distance to its ``min_samples``-th neighbour (itself the first)."""
        return np.ascontiguousarray(self.distances[:, min_samples - 1])


def mutual_reachability_mst(X: np.ndarray, neighbours: Neighbours, min_samples: int) -> np.ndarray:
    """The MST of the mutual-reachability graph of ``X``, as scikit-learn's Prim writes it.

    Parameters
    ----------
    X : ndarray of float64, shape (n, d)
        C-contiguous points (n >= 2).
    neighbours : Neighbours
        Neighbours of ``X`` for a ``k`` of at least ``min_samples``.
    min_samples : int
        Defines the core distances (``neighbours.core_distances(min_samples)``).

    Returns
    -------
    ndarray of MST_EDGE_DTYPE, shape (n - 1,)
        ``(current_node, next_node, distance)`` records in the order scikit-learn's
        ``mst_from_data_matrix`` returns them (see the module's docstring).

    Examples
    --------
    >>> X = np.array([[0.0, 0.0], [1.0, 0.0], [5.0, 0.0], [1.0, 2.0]])
    >>> mst = mutual_reachability_mst(X, Neighbours(X, 1), 1)
    >>> [(int(a), int(b), float(w)) for a, b, w in mst]
    [(0, 1, 1.0), (1, 3, 2.0), (1, 2, 4.0)]
    """
    n = X.shape[0]
    cores = neighbours.core_distances(min_samples)
    _, order, nodes, bounds = neighbours.tree.get_arrays()
    order = np.asarray(order, dtype=np.int64)
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    cand_a, cand_b, cand_w = _candidate_edges(X, cores, neighbours.indptr, neighbours.indices)
    first = _lightest_listed(cand_a, cand_w, neighbours.distances[:, -1])
    edge_a, edge_b, edge_w = _boruvka(
        np.ascontiguousarray(X[order]),
        np.ascontiguousarray(cores[order]),
        np.asarray(nodes["idx_start"], dtype=np.int64),
        np.asarray(nodes["idx_end"], dtype=np.int64),
        np.asarray(nodes["is_leaf"], dtype=np.bool_),
        np.ascontiguousarray(bounds[0]),
        np.ascontiguousarray(bounds[1]),
        rank[cand_a[first]],
        rank[cand_b[first]],
        cand_w[first],
    )
    edge_a, edge_b = order[edge_a], order[edge_b]
    # other MSTs differ only by light edges of equal weight; Prim may take any of them. A
    # light edge's weight is one of the tree's weights: most candidates fail that at once.
    tree_weights = np.sort(edge_w)
    at = np.minimum(np.searchsorted(tree_weights, cand_w), n - 2)
    maybe = tree_weights[at] == cand_w
    cand_a, cand_b, cand_w = cand_a[maybe], cand_b[maybe], cand_w[maybe]
    light = _light_edges(edge_a, edge_b, edge_w, cand_a, cand_b, cand_w, n)
    cand_a, cand_b, cand_w = _with_copies(
        X,
        np.concatenate([edge_a, cand_a[light]]),
        np.concatenate([edge_b, cand_b[light]]),
        np.concatenate([edge_w, cand_w[light]]),
    )
    light = _light_edges(edge_a, edge_b, edge_w, cand_a, cand_b, cand_w, n)
    source, target, distance = _prim_order(
        n,
        np.concatenate([edge_a, cand_a[light]]),
        np.concatenate([edge_b, cand_b[light]]),
        np.concatenate([edge_w, cand_w[light]]),
    )
    mst = np.empty(n - 1, dtype=MST_EDGE_DTYPE)
    mst["current_node"], mst["next_node"], mst["distance"] = source, target, distance
    return mst
