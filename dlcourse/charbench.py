"""The course's character-level language-modelling benchmark (chapters 06, 07 and 09 share it).

The text is the Python standard library's source (``dlcourse.text_corpus``), its files in
sorted order. The **test** text is the last files of that order, together at least
``TEST_CHARS`` characters; the **validation** text the files before them, at least
``VALID_CHARS``; the **training** text everything before (or its first ``max_chars``
characters). The cuts fall between files, so a model is never tested on the rest of a
file it trained on. One vocabulary covers all three parts; a few characters of the
validation and test text never occur in the training text, so a model must give every
character of the vocabulary some probability.

Baselines on the test text: ``compressors`` (gzip, bz2 and xz at level 9, each
compressing the test text on its own: what a general-purpose compressor needs per
character) and ``ngram_bits_per_char`` (a count-based character n-gram model fitted on
the training text). Every number is in bits per character of the test text.
"""

import bz2
import dataclasses
import functools
import gzip
import lzma
import math

import numpy as np

from .data import _check_n, _stdlib_files

TEST_CHARS = 200_000
VALID_CHARS = 200_000
MIN_TRAIN_CHARS = 10_000


@dataclasses.dataclass(frozen=True)
class CharBenchmark:
    train: str
    valid: str
    test: str
    vocab: str  # every character of the three parts, sorted
    files: dict  # part -> the corpus files (relative paths) it comes from

    def encode(self, text: str) -> np.ndarray:
        """Character indices into ``vocab`` (int64); a character outside it is an error."""
        return _encode(text, self.vocab, "the benchmark's vocabulary")

    def decode(self, ids) -> str:
        return "".join(self.vocab[int(i)] for i in np.asarray(ids).ravel())


def _encode(text: str, vocab: str, name: str = "the vocabulary") -> np.ndarray:
    """The indices of ``text``'s characters in ``vocab`` (int64); a character outside it is
    a ValueError that names ``name``. Vectorised through a table indexed by code point: a
    Python loop over the 12 million characters of the training text takes about a second."""

    def code_points(s):
        return np.frombuffer(s.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)

    vocab_codes = code_points(vocab)
    table = np.full(int(vocab_codes.max(initial=0)) + 2, -1, dtype=np.int64)
    table[vocab_codes] = np.arange(len(vocab))
    # every code point above the vocabulary's largest maps to the last entry, -1
    ids = table[np.minimum(code_points(text), len(table) - 1)]
    missing = ids < 0
    if missing.any():
        raise ValueError(
            f"character {text[int(np.argmax(missing))]!r} is not in {name}"
        )
    return ids


@functools.lru_cache(maxsize=1)
def _parts():
    files = _stdlib_files()
    test, valid, i = [], [], len(files)
    for part, need in ((test, TEST_CHARS), (valid, VALID_CHARS)):
        while sum(len(t) for _, t in part) < need:
            i -= 1
            part.insert(0, files[i])
    train = files[:i]
    vocab = "".join(sorted(set("".join(t for _, t in files))))
    return train, valid, test, vocab


def char_benchmark(max_chars: int | None = None) -> CharBenchmark:
    """The fixed split (same on every call and machine with the same Python); ``max_chars`` keeps only the
    first characters of the training text (at least ``MIN_TRAIN_CHARS``), validation and test unchanged."""
    if max_chars is not None:
        _check_n(max_chars, "max_chars")
        if max_chars < MIN_TRAIN_CHARS:
            raise ValueError(
                f"max_chars={max_chars} is too small: the benchmark's training text needs at "
                f"least {MIN_TRAIN_CHARS:,} characters (validation and test keep "
                f"{VALID_CHARS:,} and {TEST_CHARS:,} whatever max_chars is)"
            )
    train, valid, test, vocab = _parts()
    text = "".join(t for _, t in train)
    return CharBenchmark(
        train=text if max_chars is None else text[:max_chars],
        valid="".join(t for _, t in valid),
        test="".join(t for _, t in test),
        vocab=vocab,
        files={
            name: [p for p, _ in part]
            for name, part in (("train", train), ("valid", valid), ("test", test))
        },
    )


def compressors(text: str) -> dict:
    """Bits per character that gzip -9, bz2 -9 and xz -9 need for ``text`` compressed on its own."""
    if not text:
        raise ValueError("compressors needs a non-empty text")
    data = text.encode("utf-8")
    sizes = {
        "gzip -9": len(gzip.compress(data, compresslevel=9, mtime=0)),
        "bz2 -9": len(bz2.compress(data, compresslevel=9)),
        "xz -9": len(lzma.compress(data, preset=9)),
    }
    return {name: 8 * size / len(text) for name, size in sizes.items()}


def ngram_bits_per_char(
    train: str, test: str, order: int, vocab: str, discount: float = 0.75
) -> float:
    """Test bits/char of a character n-gram model (``order`` = n, 1 to 7) fitted by counting on ``train``.

    Smoothing: interpolated absolute discounting (Ney, Essen and Kneser 1994). For a history h
    of n-1 characters seen c(h) times, followed by N(h) distinct characters,

        P(x | h) = max(c(h, x) - D, 0) / c(h) + D * N(h) / c(h) * P(x | h'),

    where h' drops the oldest character; an unseen history uses P(x | h') alone, and the
    recursion ends in the uniform distribution over ``vocab``. The first characters of the
    test text use the histories they have.
    """
    if not isinstance(order, int) or not 1 <= order <= 7:
        raise ValueError(f"order must be an integer from 1 to 7, got {order!r}")
    if not 0 < discount < 1:
        raise ValueError(
            f"discount must lie strictly between 0 and 1, got {discount!r}"
        )
    if len(train) < order or not test:
        raise ValueError(
            f"train needs at least {order} characters and test at least one"
        )
    tr, te = _encode(train, vocab), _encode(test, vocab)
    V = len(vocab)
    prob = np.full(len(te), 1.0 / V)  # order 0: uniform
    for n in range(1, order + 1):
        # n-gram ids in base V (V**7 < 2**62 for V < 450): history = id // V, next character = id % V
        grams, counts = np.unique(_ids(tr, n, V), return_counts=True)
        hist, first = np.unique(grams // V, return_index=True)
        hist_count = np.add.reduceat(counts, first)
        hist_types = np.diff(np.append(first, len(grams)))
        ids = _ids(
            te, n, V, keep_length=True
        )  # -1 where the test position has no history of n-1 yet
        ok = ids >= 0
        c_hx = _lookup(grams, counts, ids[ok])
        h = ids[ok] // V
        c_h = _lookup(hist, hist_count, h)
        n_h = _lookup(hist, hist_types, h)
        seen = c_h > 0
        lower = prob[ok]
        new = lower.copy()
        new[seen] = (
            np.maximum(c_hx[seen] - discount, 0) + discount * n_h[seen] * lower[seen]
        ) / c_h[seen]
        prob[ok] = new
    return float(-np.log2(prob).mean())


def _ids(x: np.ndarray, n: int, V: int, keep_length: bool = False) -> np.ndarray:
    """Base-V ids of the n-grams ending at each position (those with fewer than n-1 before them: dropped,
    or -1 with keep_length)."""
    if V**n >= 2**62:
        raise ValueError(f"a vocabulary of {V} characters is too large for order {n}")
    ids = np.zeros(len(x) - n + 1, dtype=np.int64)
    for k in range(n):
        ids = ids * V + x[k : len(x) - n + 1 + k]
    if keep_length:
        ids = np.concatenate([np.full(n - 1, -1, dtype=np.int64), ids])
    return ids


def _lookup(keys: np.ndarray, values: np.ndarray, query: np.ndarray) -> np.ndarray:
    """values[keys == q] for each q (0 where q is not among the sorted keys)."""
    at = np.searchsorted(keys, query)
    at = np.minimum(at, len(keys) - 1)
    found = keys[at] == query
    return np.where(found, values[at], 0).astype(np.float64)


def baselines(bench: CharBenchmark, orders=(1, 2, 3, 5)) -> dict:
    """Test bits/char of the compressors and of the n-gram models: name -> bits/char."""
    result = {
        f"{n}-gram (counts, absolute discounting)": ngram_bits_per_char(
            bench.train, bench.test, n, bench.vocab
        )
        for n in orders
    }
    result.update(compressors(bench.test))
    result["uniform over the vocabulary"] = math.log2(len(bench.vocab))
    return result
