"""Small helpers shared by the Deep Learning Core notebooks.

Everything a chapter needs besides NumPy, PyTorch and matplotlib lives here, so
that the notebooks stay about the ideas: picking a device, seeding, offline data,
a numerical gradient check and a few plots.
"""

from .charbench import CharBenchmark, char_benchmark
from .core import describe_device, device, one_thread, seed, timeit
from .data import (
    Split,
    load_digits,
    load_mnist1d,
    make_moons,
    make_spirals,
    make_xor,
    text_corpus,
)
from .gradcheck import gradient_check, numerical_gradient, relative_error
from .plots import plot_decision_boundary, plot_graph
from .seeds import install as _install_seed_offset

_install_seed_offset()  # DLCOURSE_SEED_OFFSET moves every seed (see dlcourse.seeds); unset: nothing changes

__all__ = [
    "CharBenchmark",
    "Split",
    "char_benchmark",
    "describe_device",
    "device",
    "gradient_check",
    "load_digits",
    "load_mnist1d",
    "make_moons",
    "make_spirals",
    "make_xor",
    "numerical_gradient",
    "one_thread",
    "plot_decision_boundary",
    "plot_graph",
    "relative_error",
    "seed",
    "text_corpus",
    "timeit",
]
