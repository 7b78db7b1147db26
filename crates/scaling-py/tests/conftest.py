"""Shared paths: the repository root, the real datasets (tests skip without them) and the
command-line binary the parity tests compare against."""

import os
import pathlib
import subprocess

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
DATA = ROOT.parent / "shared" / "data"


def data_file(name: str) -> pathlib.Path:
    path = DATA / name
    if not path.exists():
        pytest.skip(f"{path} is absent: the real datasets live in ../shared/data beside the checkout")
    return path


def cli_binary() -> pathlib.Path:
    """The `scaling` binary built by `cargo test --workspace` (./test-all builds it first)."""
    env = os.environ.get("SCALING_BIN")
    path = pathlib.Path(env) if env else ROOT / "target" / "debug" / "scaling"
    if not path.exists():
        pytest.fail(f"{path} is missing: run ./test-all (it builds the CLI before the Python tests)")
    return path


def cli(*args: str) -> str:
    out = subprocess.run([str(cli_binary()), *args], check=True, capture_output=True, text=True)
    return out.stdout
