"""Benchmark: search by example, exact (blocked numpy) against approximate indexes.

Run by hand: ``python benchmarks/search.py [--n 1000000] [--d 1024] [--queries 200] [--k 10]
[--libraries usearch,faiss,hnswlib]``.

Stored vectors are synthetic but clustered like real embeddings (a uniform random cloud is
the worst case of every approximate index and unlike any embedding): ``--clusters`` Gaussian
clusters with random centres and per-cluster spread, made non-negative like post-ReLU
features (BirdNET's pooled embedding is). Queries are stored rows with noise added (a query
window is near, not equal to, stored ones). Vectors go to a ``.npy`` file that exact search
reads memory-mapped, as ``sonotype search`` does.

For each library (skipped with a note when not installed), all with cosine distance, HNSW
graphs with 16 links per node, 128 candidates while building and 64 while searching (each
library's usual defaults): build time, index size, median and 95th-percentile latency of
one query, queries per second in a batch, recall@k against the exact answer. Exact search:
the same latencies (file in the page cache, as after the first query), computing the rows'
norms per query (``exact``) and with them computed once (``exact+norm``, as ``sonotype
search`` does: its build time is that one pass).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from sonotype.embeddings.search import exact_search, set_norms


def make_vectors(path: Path, n: int, d: int, clusters: int, seed: int) -> np.memmap:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(clusters, d)).astype(np.float32)
    spread = rng.uniform(0.3, 1.2, size=clusters).astype(np.float32)
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(n, d))
    for start in range(0, n, 65536):
        m = min(65536, n - start)
        which = rng.integers(clusters, size=m)
        block = centres[which] + spread[which, None] * rng.normal(size=(m, d)).astype(np.float32)
        out[start : start + m] = np.maximum(block, 0)
    out.flush()
    return np.load(path, mmap_mode="r")


def timed(fn, queries):
    times = []
    results = []
    for q in queries:
        t0 = time.perf_counter()
        results.append(fn(q))
        times.append(time.perf_counter() - t0)
    return np.array(times), results


def recall(found: np.ndarray, truth: np.ndarray) -> float:
    return float(
        np.mean([len(set(f) & set(t)) / len(t) for f, t in zip(found, truth, strict=True)])
    )


def build(name: str, vectors, d: int):
    n = len(vectors)
    if name == "usearch":
        from sonotype.embeddings.search import HNSWIndex

        index = HNSWIndex(d).add(vectors)
        return index, lambda q, k: index.search(q, k=k)[0], index.index.memory_usage
    if name == "faiss":
        import faiss

        index = faiss.IndexHNSWFlat(d, 16, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 128
        index.hnsw.efSearch = 64
        for start in range(0, n, 65536):
            # A copy: normalize_L2 writes in place, and the memory map is read-only.
            block = np.array(vectors[start : start + 65536], dtype=np.float32)
            faiss.normalize_L2(block)
            index.add(block)

        def search(q, k):
            q = np.array(np.atleast_2d(q), dtype=np.float32)
            faiss.normalize_L2(q)
            return index.search(q, k)[1][0]

        return index, search, n * (d * 4 + 16 * 2 * 4)
    if name == "hnswlib":
        import hnswlib

        index = hnswlib.Index(space="cosine", dim=d)
        index.init_index(max_elements=n, M=16, ef_construction=128, random_seed=0)
        for start in range(0, n, 65536):
            block = np.ascontiguousarray(vectors[start : start + 65536], dtype=np.float32)
            index.add_items(block, np.arange(start, start + len(block)))
        index.set_ef(64)
        return index, lambda q, k: index.knn_query(q, k=k)[0][0], n * (d * 4 + 16 * 2 * 4)
    raise SystemExit(f"unknown library {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=1024)
    parser.add_argument("--clusters", type=int, default=500)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--libraries", default="usearch,faiss,hnswlib")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed + 1)
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        # Named as in an embedding set's folder, so set_norms finds it.
        vectors = make_vectors(Path(tmp) / "vectors.npy", args.n, args.d, args.clusters, args.seed)
        print(f"{args.n:,} x {args.d} float32 vectors ({vectors.nbytes / 1e9:.2f} GB) made in "
              f"{time.perf_counter() - t0:.1f} s")  # fmt: skip
        rows = rng.choice(args.n, size=args.queries, replace=False)
        queries = np.asarray(vectors[rows], dtype=np.float32)
        queries += 0.1 * queries.std() * rng.normal(size=queries.shape).astype(np.float32)
        exact_search(vectors, queries[0], k=args.k)  # warm the page cache
        times, found = timed(lambda q: exact_search(vectors, q, k=args.k)[0], queries[:20])
        truth = exact_search(vectors, queries, k=args.k)[0]
        t0 = time.perf_counter()
        exact_search(vectors, queries, k=args.k)
        batch = time.perf_counter() - t0
        print(f"{'method':10} {'build s':>8} {'index MB':>9} {'median ms':>10} {'p95 ms':>8} "
              f"{'batch q/s':>10} {'recall@' + str(args.k):>10}")  # fmt: skip
        print(f"{'exact':10} {0:8.1f} {0:9.0f} {1e3 * np.median(times):10.1f} "
              f"{1e3 * np.percentile(times, 95):8.1f} {args.queries / batch:10.1f} "
              f"{recall(found, truth[:20]):10.3f}")  # fmt: skip
        # As `sonotype search` runs it: the rows' norms computed once and kept with the set.
        t0 = time.perf_counter()
        norms = set_norms(Path(tmp), vectors)
        normed = time.perf_counter() - t0
        times, found = timed(
            lambda q: exact_search(vectors, q, k=args.k, norms=norms)[0], queries[:20]
        )
        print(f"{'exact+norm':10} {normed:8.1f} {norms.nbytes / 1e6:9.0f} "
              f"{1e3 * np.median(times):10.1f} {1e3 * np.percentile(times, 95):8.1f} "
              f"{'':10} {recall(found, truth[:20]):10.3f}")  # fmt: skip
        for name in filter(None, args.libraries.split(",")):
            try:
                t0 = time.perf_counter()
                index, find, size = build(name, vectors, args.d)
                built = time.perf_counter() - t0
            except ImportError as error:
                print(f"{name:10} not installed ({error})")
                continue
            times, found = timed(lambda q, find=find: find(q, args.k), queries)
            print(f"{name:10} {built:8.1f} {size / 1e6:9.0f} {1e3 * np.median(times):10.2f} "
                  f"{1e3 * np.percentile(times, 95):8.2f} {len(queries) / times.sum():10.1f} "
                  f"{recall(np.array(found), truth):10.3f}")  # fmt: skip
            del index, find  # free the index before building the next


if __name__ == "__main__":
    main()
