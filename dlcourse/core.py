"""Device choice, seeding, threads and timing."""

import contextlib
import os
import random
import time

import numpy as np
import torch


def device() -> torch.device:
    """The best available device: CUDA, then Apple MPS, then the CPU.

    Set ``DLCOURSE_DEVICE=cpu`` (or ``cuda``/``mps``) to force one.
    """
    forced = os.environ.get("DLCOURSE_DEVICE")
    if forced:
        return torch.device(forced)
    if torch.cuda.is_available():
        return torch.device("cuda")
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def describe_device(dev: torch.device) -> str:
    """One line a reader can trust: which device the PyTorch cells run on."""
    dev = torch.device(dev)
    if dev.type == "cuda":
        return f"PyTorch runs on GPU: {torch.cuda.get_device_name(dev)}"
    if dev.type == "mps":
        return "PyTorch runs on Apple MPS (GPU)"
    return "PyTorch runs on the CPU: no GPU is present, so the GPU comparisons below show CPU timings only"


def seed(s: int = 0) -> np.random.Generator:
    """Seed Python, NumPy and PyTorch; return a NumPy generator seeded with ``s``."""
    if not isinstance(s, (int, np.integer)) or isinstance(s, bool) or s < 0:
        raise ValueError(f"seed wants a non-negative integer, got {s!r}")
    random.seed(int(s))
    np.random.seed(int(s))
    torch.manual_seed(int(s))
    return np.random.default_rng(int(s))


def timeit(fn, repeat: int = 5, number: int = 1) -> float:
    """Best wall-clock seconds per call of ``fn()`` over ``repeat`` rounds of ``number`` calls.

    The minimum is the least noisy estimate on a shared machine. CUDA work is
    synchronised so that asynchronous kernels are counted.
    """
    if not callable(fn):
        raise TypeError(f"timeit wants a callable, got {type(fn).__name__}")
    if repeat < 1 or number < 1:
        raise ValueError(
            f"repeat and number must be >= 1, got repeat={repeat}, number={number}"
        )
    sync = torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)
    best = float("inf")
    for _ in range(repeat):
        sync()
        start = time.perf_counter()
        for _ in range(number):
            fn()
        sync()
        best = min(best, (time.perf_counter() - start) / number)
    return best


@contextlib.contextmanager
def one_thread():
    """Run the block on one CPU thread (PyTorch's and NumPy's BLAS alike), then restore.

    Small models train faster on one thread than on two threads that compete for a busy
    2-core machine; large matrix products are the exception, so use it per block.
    """
    from threadpoolctl import threadpool_limits

    saved = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1):
            yield
    finally:
        torch.set_num_threads(saved)
