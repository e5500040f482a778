"""Offline data: everything is bundled with an installed package or generated from a seed."""

import pathlib
import sysconfig
from typing import NamedTuple

import numpy as np


class Split(NamedTuple):
    X_train: np.ndarray
    y_train: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray


def _check_n(n, name="n", minimum=1):
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {n!r}")


def _check_fraction(f, name):
    if not 0.0 < f < 1.0:
        raise ValueError(f"{name} must lie strictly between 0 and 1, got {f!r}")


def make_moons(n: int = 200, noise: float = 0.1, seed: int = 0):
    """Two interleaving half circles: ``X`` of shape (n, 2) float64, ``y`` of shape (n,) in {0, 1}."""
    _check_n(n, minimum=2)
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise!r}")
    rng = np.random.default_rng(seed)
    n_top = n // 2
    t_top = np.linspace(0, np.pi, n_top)
    t_bottom = np.linspace(0, np.pi, n - n_top)
    top = np.stack([np.cos(t_top), np.sin(t_top)], axis=1)
    bottom = np.stack([1 - np.cos(t_bottom), 0.5 - np.sin(t_bottom)], axis=1)
    X = np.concatenate([top, bottom]) + noise * rng.standard_normal((n, 2))
    y = np.concatenate(
        [np.zeros(n_top, dtype=np.int64), np.ones(n - n_top, dtype=np.int64)]
    )
    order = rng.permutation(n)
    return X[order], y[order]


def make_xor(n: int = 200, noise: float = 0.0, seed: int = 0):
    """Points in [-1, 1]^2 labelled 1 where the two coordinates have different signs."""
    _check_n(n)
    rng = np.random.default_rng(seed)
    X = rng.uniform(-1, 1, size=(n, 2))
    y = ((X[:, 0] > 0) != (X[:, 1] > 0)).astype(np.int64)
    return X + noise * rng.standard_normal((n, 2)), y


def make_spirals(n: int = 300, classes: int = 3, noise: float = 0.2, seed: int = 0):
    """``classes`` interleaved spiral arms, ``n`` points in all (as evenly split as possible)."""
    _check_n(n)
    _check_n(classes, "classes", minimum=2)
    rng = np.random.default_rng(seed)
    counts = [n // classes + (k < n % classes) for k in range(classes)]
    X, y = [], []
    for k, m in enumerate(counts):
        r = np.linspace(0.0, 1.0, m)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, m) + noise * rng.standard_normal(m)
        X.append(np.stack([r * np.sin(t), r * np.cos(t)], axis=1))
        y.append(np.full(m, k, dtype=np.int64))
    return np.concatenate(X), np.concatenate(y)


def _split(X, y, test_fraction, seed):
    _check_fraction(test_fraction, "test_fraction")
    order = np.random.default_rng(seed).permutation(len(y))
    n_test = int(round(len(y) * test_fraction))
    test, train = order[:n_test], order[n_test:]
    return Split(X[train], y[train], X[test], y[test])


def load_digits(test_fraction: float = 0.25, seed: int = 0) -> Split:
    """scikit-learn's 1,797 handwritten 8x8 digits (bundled, no download).

    ``X`` rows are the 64 pixels scaled to [0, 1] (float64); ``y`` are the digits 0-9.
    """
    from sklearn.datasets import load_digits as _sk_digits

    digits = _sk_digits()
    return _split(
        digits.data.astype(np.float64) / 16.0,
        digits.target.astype(np.int64),
        test_fraction,
        seed,
    )


def load_mnist1d(
    num_samples: int = 5000, train_fraction: float = 0.8, seed: int = 42
) -> Split:
    """MNIST-1D (Greydanus 2020) generated locally with ``mnist1d``'s own ``make_dataset``.

    The default arguments give the benchmark's standard 4,000/1,000 split of
    length-40 signals; nothing is downloaded.
    """
    _check_n(num_samples, "num_samples", minimum=10)
    _check_fraction(train_fraction, "train_fraction")
    from mnist1d.data import get_dataset_args, make_dataset

    args = get_dataset_args()
    args.num_samples, args.train_split, args.seed = (
        int(num_samples),
        float(train_fraction),
        int(seed),
    )
    d = make_dataset(args)
    return Split(
        d["x"].astype(np.float64),
        d["y"].astype(np.int64),
        d["x_test"].astype(np.float64),
        d["y_test"].astype(np.int64),
    )


def _stdlib_files() -> list:
    """(path relative to the standard library, text) of every source file of the corpus, in sorted order."""
    stdlib = pathlib.Path(sysconfig.get_paths()["stdlib"])
    files = []
    for path in sorted(stdlib.rglob("*.py")):
        rel = path.relative_to(stdlib)
        if {"site-packages", "dist-packages", "test", "tests"} & set(rel.parts):
            continue  # third-party code and test suites are not part of the corpus
        files.append((str(rel), path.read_text(encoding="utf-8", errors="replace")))
    if not files:
        raise RuntimeError(
            f"no Python source found under {stdlib}; is the standard library installed?"
        )
    return files


def text_corpus(max_chars: int | None = None) -> str:
    """Real English-and-code text: the Python standard library's own source files, concatenated.

    Files are read in sorted order so the corpus is the same on every run of the
    same Python. ``max_chars`` stops early (and keeps the call fast).
    """
    if max_chars is not None:
        _check_n(max_chars, "max_chars")
    stdlib = pathlib.Path(sysconfig.get_paths()["stdlib"])
    parts, total = [], 0
    for path in sorted(stdlib.rglob("*.py")):
        if {"site-packages", "dist-packages", "test", "tests"} & set(
            path.relative_to(stdlib).parts
        ):
            continue  # third-party code and test suites are not part of the corpus
        text = path.read_text(encoding="utf-8", errors="replace")
        parts.append(text)
        total += len(text)
        if max_chars is not None and total >= max_chars:
            break
    corpus = "".join(parts)
    if not corpus:
        raise RuntimeError(
            f"no Python source found under {stdlib}; is the standard library installed?"
        )
    return corpus if max_chars is None else corpus[:max_chars]
