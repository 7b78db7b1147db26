"""Shared paths: the repository root, the real datasets (tests skip without them) and the
command-line binary the parity tests compare against; and the Ctrl-C check of long calls."""

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


def assert_ctrl_c_interrupts_promptly(call) -> None:
    """`call()` (a long computation) raises KeyboardInterrupt within 5 s when Ctrl-C arrives
    after half a second. A process started in the background by a shell without job control
    ignores SIGINT, and `_thread.interrupt_main` then does nothing: Python's own handler is
    installed for the duration, as in an interactive session."""
    import _thread
    import signal
    import threading
    import time

    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        timer = threading.Timer(0.5, _thread.interrupt_main)
        timer.start()
        start = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            call()
        assert time.monotonic() - start < 5.0
    finally:
        signal.signal(signal.SIGINT, previous)
