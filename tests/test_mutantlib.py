"""The mutant machinery (tests/mutantlib.py): patches apply, and say which one does not."""

import dataclasses

import pytest

import mutantlib
import nbtools

CHAPTERS = nbtools.chapter_ids()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_every_patch_applies_to_its_solution_cell(chapter):
    """Fast: every `replace` text occurs as often as stated (no kernel needed)."""
    broken = []
    for mutant in mutantlib.patches(chapter):
        try:
            changed = mutant.source()
        except mutantlib.MutantError as error:
            broken.append(str(error))
            continue
        solution = mutantlib.solution_cell(chapter, mutant.exercise)
        assert changed != solution, f"mutant {mutant} changes nothing"
        compile(changed, str(mutant), "exec")
    assert not broken, "\n\n".join(broken)


def some_patch():
    return next(m for c in CHAPTERS for m in mutantlib.patches(c))


def test_a_replaced_text_that_is_gone_fails_naming_the_mutant():
    mutant = dataclasses.replace(some_patch(), changes=(("text no solution has", "x"),))
    with pytest.raises(
        mutantlib.MutantError, match=rf"mutant {mutant}.*occurs 0 times"
    ):
        mutant.source()


def test_a_replaced_text_found_twice_fails_naming_the_mutant():
    mutant = some_patch()
    line = next(
        ln
        for ln in mutantlib.solution_cell(mutant.chapter, mutant.exercise).splitlines()
        if "### BEGIN SOLUTION" in ln
    )
    twice = dataclasses.replace(mutant, changes=((line.strip(), "pass"),))
    solution = mutantlib.solution_cell(mutant.chapter, mutant.exercise)
    if solution.count(line.strip()) < 2:
        pytest.skip("this solution cell has a single solution block")
    with pytest.raises(mutantlib.MutantError, match=rf"mutant {twice}.*times"):
        twice.source()


def test_malformed_entries_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(nbtools, "MUTANTS", tmp_path)
    chapter = CHAPTERS[0]
    (tmp_path / f"{chapter}.toml").write_text(
        '[[some_exercise]]\nname = "x"\nreplace = "a"\n'
    )
    with pytest.raises(mutantlib.MutantError, match="missing"):
        mutantlib.patches(chapter)
    (tmp_path / f"{chapter}.toml").write_text(
        '[[some_exercise]]\nname = "x"\nwhy = "y"\nreplace = ["a", "b"]\nwith = ["c"]\n'
    )
    with pytest.raises(mutantlib.MutantError, match="as many texts"):
        mutantlib.patches(chapter)
