"""The one code asset every function shares: requirements.txt wheels for Lambda, Chalice's
runtime (chalice/app.py, chalice/__init__.py, as `chalice package` ships it) and chalicelib/ (and
vendor/, if present). Not app.py: every handler is in chalicelib (a route's is its context's
`chalicelib.<context>.handler.app`), and app.py, which registers every context, is for local use.

Two caches under `<cache>/`, so repeated synths are fast:
- `deps-<hash>.zip`: `pip install --platform manylinux2014_x86_64 --only-binary=:all:` of
  requirements.txt, keyed by that file, the platform and the Python version (PyPI only, once);
- `code-<hash>.zip`: that plus the sources, keyed by their contents (a copy and an append).

Zips are deterministic (sorted entries, fixed timestamps), so an unchanged tree gives the same
asset hash and CloudFormation does not update the functions. When the build interpreter is the
Lambda runtime's version, modules are precompiled with unchecked-hash .pyc files: /var/task is
read-only, so without them every cold start compiles every module it imports.
"""

from __future__ import annotations

import compileall
import hashlib
import inspect
import os
import py_compile
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from infra import settings

_EPOCH = (1980, 1, 1, 0, 0, 0)
_SKIP_DIRS = {"__pycache__", ".mypy_cache", ".pytest_cache", ".ruff_cache"}
KEEP_BUILDS = 3


def _precompile() -> bool:
    return f"{sys.version_info.major}.{sys.version_info.minor}" == settings.PYTHON_VERSION


def _digest(parts: Iterable[bytes]) -> str:
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:20]


def _chalice_runtime() -> list[tuple[Path, str]]:
    import chalice
    import chalice.app

    return [
        (Path(inspect.getfile(chalice.app)), "chalice/app.py"),
        (Path(inspect.getfile(chalice)), "chalice/__init__.py"),
    ]


def source_files(repo: Path) -> list[tuple[Path, str]]:
    """(file, name in the zip) for everything of ours that ships, sorted by name."""
    files = _chalice_runtime()
    for folder in ("chalicelib", "vendor"):
        root = repo / folder
        if not root.is_dir():
            continue
        prefix = "" if folder == "vendor" else f"{folder}/"
        for path in _walk(root):
            files.append((path, prefix + path.relative_to(root).as_posix()))
    return sorted(files, key=lambda item: item[1])


def _walk(root: Path) -> Iterator[Path]:
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        for name in sorted(filenames):
            if not name.endswith((".pyc", ".pyo")):
                yield Path(dirpath) / name


def _add(archive: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=_EPOCH)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = ((0o755 if executable else 0o644) | 0o100000) << 16
    archive.writestr(info, data, compresslevel=6)


def _compiled(source: Path, name: str) -> tuple[str, bytes] | None:
    """The unchecked-hash .pyc that Python 3.11 looks for next to `name`, or None."""
    if not name.endswith(".py") or not _precompile():
        return None
    module = Path(name)
    target = module.parent / "__pycache__" / f"{module.stem}.{sys.implementation.cache_tag}.pyc"
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "module.pyc"
        try:
            py_compile.compile(
                str(source),
                cfile=str(out),
                dfile=f"/var/task/{name}",
                doraise=True,
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
            )
        except py_compile.PyCompileError:
            return None
        return target.as_posix(), out.read_bytes()


def _build_deps(requirements: Path, target: Path) -> None:
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        site = Path(scratch) / "site"
        command = [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
            "--no-compile",
            "--only-binary=:all:",
            "--platform",
            settings.PIP_PLATFORM,
            "--implementation",
            "cp",
            "--python-version",
            settings.PYTHON_VERSION,
            "--target",
            str(site),
            "-r",
            str(requirements),
        ]
        subprocess.run(command, check=True)
        if _precompile():
            compileall.compile_dir(
                str(site),
                quiet=2,
                ddir="/var/task",
                invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH,
                workers=0,
            )
        partial = Path(scratch) / "deps.zip"
        with zipfile.ZipFile(partial, "w") as archive:
            for dirpath, dirnames, filenames in os.walk(site):
                dirnames.sort()
                for name in sorted(filenames):
                    path = Path(dirpath) / name
                    if path.suffix == ".pyc" and not _precompile():
                        continue
                    executable = os.access(path, os.X_OK)
                    _add(archive, path.relative_to(site).as_posix(), path.read_bytes(), executable)
        partial.replace(target)


def build(repo: Path, cache: Path) -> Path:
    """The code asset zip for the tree at `repo`, built or taken from `cache`."""
    cache.mkdir(parents=True, exist_ok=True)
    requirements = repo / "requirements.txt"
    compile_tag = sys.implementation.cache_tag if _precompile() else "nopyc"
    deps_key = _digest(
        [
            requirements.read_bytes(),
            settings.PIP_PLATFORM.encode(),
            settings.PYTHON_VERSION.encode(),
            compile_tag.encode(),
        ]
    )
    deps = cache / f"deps-{deps_key}.zip"
    if not deps.exists():
        _build_deps(requirements, deps)
    files = source_files(repo)
    code_key = _digest([deps_key.encode(), *(name.encode() + b"\0" + path.read_bytes() for path, name in files)])
    code = cache / f"code-{code_key}.zip"
    if not code.exists():
        with tempfile.TemporaryDirectory(dir=cache) as scratch:
            partial = Path(scratch) / "code.zip"
            shutil.copyfile(deps, partial)
            with zipfile.ZipFile(partial, "a") as archive:
                for path, name in files:
                    _add(archive, name, path.read_bytes())
                    compiled = _compiled(path, name)
                    if compiled is not None:
                        _add(archive, *compiled)
            partial.replace(code)
    _prune(cache, "deps-", deps)
    _prune(cache, "code-", code)
    return code


def _prune(cache: Path, prefix: str, keep: Path) -> None:
    builds = sorted(cache.glob(f"{prefix}*.zip"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [b for b in builds if b != keep][KEEP_BUILDS - 1 :]:
        old.unlink(missing_ok=True)
