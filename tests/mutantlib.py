"""Mutants: wrong answers that every exercise's tests must catch (tests/mutants/).

A mutant comes in one of two forms:

* an entry of ``tests/mutants/<chapter>.toml``: one small mistake, written as the change
  it makes to the reference solution. The file has one array of tables per exercise::

      [[matmul_vjp]]
      name = "missing_transpose"
      why = "forgets to transpose B when forming dA"
      replace = "dA = grad_out @ np.swapaxes(B, -1, -2)"
      with = "dA = grad_out @ B"

  ``replace`` and ``with`` may also be lists of the same length (several changes, applied
  in order). Each text to replace must occur exactly once in the solution cell (``count``
  says otherwise: every change must then occur that many times, and all are replaced).
* a file ``tests/mutants/<chapter>/<exercise>/<name>.py``: a wrong answer that is another
  program (another algorithm), the whole solution cell, its first line
  ``# MUTANT: what is wrong``.

Either way the test replaces the exercise's solution cell with the mutant's source and
requires that the exercise loses points with a message a student could act on.
"""

import dataclasses
import functools
import pathlib
import tomllib

import nbtools

KEYS = {"name", "why", "replace", "with", "count"}


class MutantError(AssertionError):
    """A mutant that cannot be applied or is written wrongly; the message names it."""


@dataclasses.dataclass(frozen=True)
class Mutant:
    chapter: str
    exercise: str
    name: str
    why: str
    changes: tuple = ()  # ((replace, with), ...) for a patch; () for a file
    count: int = 1
    path: pathlib.Path | None = None  # the .py file, or the .toml it is written in

    @property
    def id(self) -> str:
        return f"{self.chapter}-{self.exercise}-{self.name}"

    def __str__(self) -> str:
        return f"{self.chapter}/{self.exercise}/{self.name}"

    def source(self) -> str:
        """The solution cell's source as this mutant writes it."""
        if not self.changes:
            return self.path.read_text()
        text = solution_cell(self.chapter, self.exercise)
        for old, new in self.changes:
            found = text.count(old)
            if found != self.count:
                raise MutantError(
                    f"mutant {self} ({self.path.name}): the text to replace occurs {found} "
                    f"times in the solution cell of {self.exercise}, {self.count} expected; "
                    f"the solution changed, so update the mutant's `replace`:\n{old}"
                )
            text = text.replace(old, new)
        return text


@functools.cache
def solution_cell(chapter: str, exercise: str) -> str:
    nb = nbtools.load(nbtools.solution_path(chapter))
    for cell in nb.cells:
        if nbtools.meta(cell).get("grade_id") == exercise and nbtools.is_solution(cell):
            return cell.source
    raise MutantError(
        f"tests/mutants/{chapter}: {chapter} has no exercise {exercise!r}"
    )


def _texts(value, where: str, key: str) -> list[str]:
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list) or not all(isinstance(t, str) for t in texts):
        raise MutantError(f"{where}: `{key}` must be a string or a list of strings")
    return texts


def patches(chapter: str) -> list[Mutant]:
    """The entries of tests/mutants/<chapter>.toml (none when there is no such file)."""
    path = nbtools.MUTANTS / f"{chapter}.toml"
    if not path.exists():
        return []
    found = []
    for exercise, entries in tomllib.loads(path.read_text()).items():
        if not isinstance(entries, list):
            raise MutantError(f"{path.name}: write mutants as [[{exercise}]] tables")
        for i, entry in enumerate(entries):
            where = (
                f"{path.name}: [[{exercise}]] #{i + 1} ({entry.get('name', 'no name')})"
            )
            if unknown := set(entry) - KEYS:
                raise MutantError(f"{where}: unknown keys {sorted(unknown)}")
            if missing := {"name", "why", "replace", "with"} - set(entry):
                raise MutantError(f"{where}: missing {sorted(missing)}")
            old = _texts(entry["replace"], where, "replace")
            new = _texts(entry["with"], where, "with")
            if len(old) != len(new) or not old or not all(old):
                raise MutantError(f"{where}: `replace` and `with` need as many texts")
            found.append(
                Mutant(
                    chapter,
                    exercise,
                    entry["name"],
                    entry["why"],
                    tuple(zip(old, new, strict=True)),
                    int(entry.get("count", 1)),
                    path,
                )
            )
    return found


def files(chapter: str) -> list[Mutant]:
    """The whole-cell mutants tests/mutants/<chapter>/<exercise>/<name>.py."""
    found = []
    for path in sorted((nbtools.MUTANTS / chapter).glob("*/*.py")):
        first = path.read_text().partition("\n")[0]
        why = first.removeprefix("# MUTANT:").strip()
        if not first.startswith("# MUTANT:") or not why:
            raise MutantError(
                f"{path}: the first line must be `# MUTANT: what is wrong`"
            )
        found.append(Mutant(chapter, path.parent.name, path.stem, why, path=path))
    return found


def mutants(chapter: str) -> list[Mutant]:
    """Every mutant of a chapter, patches and files, sorted by exercise and name."""
    found = sorted(
        patches(chapter) + files(chapter), key=lambda m: (m.exercise, m.name)
    )
    names = [(m.exercise, m.name) for m in found]
    twice = sorted({f"{e}/{n}" for e, n in names if names.count((e, n)) > 1})
    if twice:
        raise MutantError(f"tests/mutants/{chapter}: mutants named twice: {twice}")
    return found
