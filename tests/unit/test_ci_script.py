"""`.ci/run` is what CI executes on a clean clone: the lint first, then the suite.

Issue 12, defect 13: the layer contracts (import-linter) and mypy strict are the
architecture's guard, so CI must run `make lint`, and a red lint must stop the run before
the tests. The script is run for real with a `make` on PATH that records its calls.
"""

from __future__ import annotations

import os
import stat
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CI_SCRIPT = ROOT / ".ci" / "run"


def _recording_make(bin_dir: Path, calls: Path, *, failing_target: str | None) -> None:
    make = bin_dir / "make"
    make.write_text(
        "#!/usr/bin/env bash\n"
        f'echo "$* CI=$CI SAFE=$PYTHONSAFEPATH" >> "{calls}"\n'
        f'[ "$1" != "{failing_target or "-"}" ]\n'
    )
    make.chmod(make.stat().st_mode | stat.S_IXUSR)


def _run_ci(tmp_path: Path, *, failing_target: str | None = None) -> tuple[int, list[str]]:
    calls = tmp_path / "calls.txt"
    calls.touch()
    _recording_make(tmp_path, calls, failing_target=failing_target)
    env = {**os.environ, "PATH": f"{tmp_path}{os.pathsep}{os.environ['PATH']}"}
    env.pop("CI", None)
    result = subprocess.run(["bash", str(CI_SCRIPT)], env=env, capture_output=True, check=False)
    return result.returncode, calls.read_text().splitlines()


def test_ci_runs_the_lint_then_the_tests_with_ci_true(tmp_path: Path) -> None:
    code, calls = _run_ci(tmp_path)
    assert code == 0
    assert calls == ["lint CI=true SAFE=1", "test CI=true SAFE=1"]


def test_a_failing_lint_stops_ci_before_the_tests(tmp_path: Path) -> None:
    code, calls = _run_ci(tmp_path, failing_target="lint")
    assert code != 0
    assert calls == ["lint CI=true SAFE=1"]


@pytest.mark.parametrize("tool", ["ruff check", "mypy", "lint-imports"])
def test_make_lint_runs_each_guard(tool: str) -> None:
    recipe = subprocess.run(
        ["make", "--dry-run", "--always-make", "lint"], cwd=ROOT, capture_output=True,
        text=True, check=True,
    ).stdout
    assert any(line.split("/")[-1].startswith(tool) for line in recipe.splitlines())
