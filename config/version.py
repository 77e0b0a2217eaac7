"""Which code is running: ``CODE_VERSION`` from the environment (set it when deploying), else the git
commit of the checkout, else "unknown". Recorded on every computation run."""

from __future__ import annotations

import os
import subprocess
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@cache
def code_version() -> str:
    if value := os.environ.get("CODE_VERSION", "").strip():
        return value[:64]
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short=12", "HEAD"],  # noqa: S607 (git from PATH, no user input)
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"
