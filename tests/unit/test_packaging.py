"""The folder platform/ installs as the package ``sendtrail`` without shadowing anything."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import graphql
import pytest

import sendtrail

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "platform"


def test_import_platform_is_still_the_standard_library() -> None:
    assert Path(platform.__file__).parent == Path(sysconfig.get_paths()["stdlib"])
    assert platform.system()  # the stdlib function works


def test_import_graphql_is_still_graphql_core() -> None:
    assert Path(graphql.__file__).parent.parent == Path(sysconfig.get_paths()["purelib"])
    assert hasattr(graphql, "GraphQLSchema")


def test_sendtrail_is_the_platform_folder() -> None:
    assert Path(sendtrail.__file__).resolve().parent == SOURCE


def test_tools_run_from_the_repo_root_see_the_standard_library() -> None:
    # What `make` does: PYTHONSAFEPATH keeps ./platform off sys.path even from the root.
    result = subprocess.run(
        [sys.executable, "-c", "import platform, graphql, sendtrail; "
         "print(platform.system(), graphql.__name__, sendtrail.__name__)"],
        cwd=ROOT, env={**os.environ, "PYTHONSAFEPATH": "1"},
        capture_output=True, text=True, check=True,
    )
    assert result.stdout.split() == [__import__("platform").system(), "graphql", "sendtrail"]


def _subpackages() -> set[str]:
    found = set()
    for init in SOURCE.rglob("__init__.py"):
        relative = init.parent.relative_to(SOURCE)
        if "__pycache__" not in relative.parts:
            found.add(".".join(("sendtrail", *relative.parts)) if relative.parts else "sendtrail")
    return found


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    work = tmp_path_factory.mktemp("wheel")
    source = work / "src"
    shutil.copytree(SOURCE, source / "platform",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--wheel-dir", str(work / "dist"), str(source)],
        env={**os.environ, "PYTHONSAFEPATH": "1"}, check=True, capture_output=True,
    )
    (built,) = (work / "dist").glob("sendtrail-*.whl")
    return zipfile.ZipFile(built)


def test_every_subpackage_is_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    packages = _subpackages()
    assert {"sendtrail", "sendtrail.tenancy", "sendtrail.graphql", "sendtrail.db"} <= packages
    missing = [p for p in packages if p.replace(".", "/") + "/__init__.py" not in names]
    assert missing == []
    assert not any(name.startswith("platform/") for name in names)


def test_package_data_is_in_the_wheel(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    for data in ("sendtrail/tenancy/rbac_model.conf", "sendtrail/tenancy/policy.csv",
                 "sendtrail/migrations/script.py.mako", "sendtrail/py.typed"):
        assert data in names
    revisions = {p.name for p in (SOURCE / "migrations" / "versions").glob("[0-9]*.py")}
    assert revisions
    assert {f"sendtrail/migrations/versions/{r}" for r in revisions} <= names


def test_wheel_declares_the_sendtrail_console_script(wheel: zipfile.ZipFile) -> None:
    (entry_points,) = [n for n in wheel.namelist() if n.endswith("entry_points.txt")]
    text = wheel.read(entry_points).decode()
    assert "sendtrail = sendtrail.cli:main" in text
