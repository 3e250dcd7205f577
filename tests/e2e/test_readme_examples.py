"""The README's SDK and curl examples, run as written against a devstack (issue 10: its SDK
snippet crashed on its last line, and its chunk_size advice did not import). Only the host and
the key file change: the fixture's stack instead of `make run`'s."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import imageio_ffmpeg
import pytest

from .support import REPO_ROOT, Devstack

README = REPO_ROOT / "README.md"
README_HOST = "http://127.0.0.1:8000"
README_KEY_FILE = ".devstack/api-key"
SECTION = "## Use it with the api.video SDK"
RUN_SECONDS = 120
_BLOCK = re.compile(r"^```(python|sh)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def examples(language: str) -> list[str]:
    """The fenced blocks of one language in the SDK section (up to the next `## ` heading)."""
    text = README.read_text()
    start = text.index(SECTION)
    end = text.find("\n## ", start + len(SECTION))
    section = text[start : end if end >= 0 else len(text)]
    return [body for lang, body in _BLOCK.findall(section) if lang == language]


def localized(snippet: str, devstack: Devstack) -> str:
    assert README_HOST in snippet and README_KEY_FILE in snippet, "the README's host or key file changed"
    return snippet.replace(README_HOST, devstack.api_url).replace(README_KEY_FILE, str(devstack.state_dir / "api-key"))


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with the `clip.mp4` the examples upload: 2 s of H.264/AAC."""
    folder = tmp_path_factory.mktemp("readme")
    subprocess.run(
        [imageio_ffmpeg.get_ffmpeg_exe(), "-loglevel", "error", "-f", "lavfi", "-i", "testsrc2=size=320x240:rate=25",
         "-f", "lavfi", "-i", "sine=frequency=440", "-t", "2", "-c:v", "libx264", "-preset", "ultrafast",
         "-c:a", "aac", "-pix_fmt", "yuv420p", str(folder / "clip.mp4")],
        check=True,
    )  # fmt: skip
    return folder


def run(command: list[str], workdir: Path) -> subprocess.CompletedProcess[str]:
    # The venv first on PATH: `python3` in the curl example is this interpreter.
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(
        command, cwd=workdir, env=env, capture_output=True, text=True, timeout=RUN_SECONDS, check=False
    )
    assert result.returncode == 0, f"{command[:2]} failed:\n{result.stdout}\n{result.stderr}"
    return result


def test_the_readme_has_its_examples() -> None:
    assert len(examples("python")) == 2 and len([s for s in examples("sh") if "curl" in s]) == 1


@pytest.mark.parametrize("index", [0, 1], ids=["first-video", "chunk-size"])
def test_python_examples_run_as_written(devstack: Devstack, workdir: Path, index: int) -> None:
    snippet = localized(examples("python")[index], devstack)
    result = run([sys.executable, "-c", snippet], workdir)
    if index == 0:
        # The last line prints the assets right after the upload: there from creation.
        lines = result.stdout.strip().splitlines()
        assert lines[0].strip().isdigit()
        assert "'hls'" in result.stdout and "'player'" in result.stdout and "manifest.m3u8" in result.stdout


def test_curl_example_runs_as_written(devstack: Devstack, workdir: Path) -> None:
    (snippet,) = [s for s in examples("sh") if "curl" in s]
    result = run(["bash", "-euo", "pipefail", "-c", localized(snippet, devstack)], workdir)
    assert '"data"' in result.stdout and '"title":"hello"' in result.stdout.replace(" ", "")
