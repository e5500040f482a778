"""What one submission may use while it is graded (all configurable from the command line)."""

import dataclasses


@dataclasses.dataclass(frozen=True)
class Limits:
    memory_mb: int = 4096  # address space of the student's kernel
    processes: int = (
        512  # processes + threads of the student's kernel (its own user id)
    )
    file_size_mb: int = 64  # largest file the kernel may write
    open_files: int = 1024
    cell_timeout_s: int = (
        120  # one cell; the cell is interrupted, later cells still run
    )
    notebook_timeout_s: int = 900  # the whole submission; the sandbox is killed
    output_lines: int = 1000  # lines of output kept per cell (nbgrader's LimitOutput)
    threads: int = (
        1  # BLAS/OpenMP threads per kernel: workers, not threads, use the cores
    )
