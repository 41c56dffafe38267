"""The secret key made in the instance folder when none is configured: processes that
start at the same moment (a service manager starting the web and its workers) all get
the one key, none crashes, none reads a half-written file."""

from __future__ import annotations

import multiprocessing
import stat
import threading
import time
from pathlib import Path

from web.config import instance_secret_key

PROCESSES = 12
ROUNDS = 8


def _start_together(barrier, folder: str, results) -> None:  # type: ignore[no-untyped-def]
    barrier.wait()
    try:
        results.put(("key", instance_secret_key(folder)))
    except BaseException as error:  # reported to the test
        results.put(("error", repr(error)))


def test_processes_starting_at_once_share_one_key(tmp_path: Path) -> None:
    context = multiprocessing.get_context("fork")
    for round_number in range(ROUNDS):
        folder = tmp_path / f"instance-{round_number}"
        barrier = context.Barrier(PROCESSES)
        results = context.Queue()
        processes = [
            context.Process(target=_start_together, args=(barrier, str(folder), results))
            for _ in range(PROCESSES)
        ]
        for process in processes:
            process.start()
        got = [results.get(timeout=60) for _ in processes]
        for process in processes:
            process.join(30)
        errors = [value for kind, value in got if kind == "error"]
        assert errors == []
        keys = {value for _kind, value in got}
        assert len(keys) == 1 and len(keys.pop()) == 64
        assert (folder / "secret_key").read_text() == got[0][1]
        assert stat.S_IMODE((folder / "secret_key").stat().st_mode) == 0o600
        assert [p.name for p in folder.iterdir()] == ["secret_key"], "no temporary files left"


def test_a_key_being_written_is_waited_for(tmp_path: Path) -> None:
    """An empty file: another process (an older version wrote in place) is writing it."""
    path = tmp_path / "secret_key"
    path.write_text("")
    key = "ab" * 32

    def finish_writing() -> None:
        time.sleep(0.3)
        path.write_text(key)

    writer = threading.Thread(target=finish_writing)
    writer.start()
    try:
        assert instance_secret_key(str(tmp_path)) == key
    finally:
        writer.join()


def test_a_key_is_made_once_and_kept(tmp_path: Path) -> None:
    key = instance_secret_key(str(tmp_path / "new"))
    assert len(key) == 64 and instance_secret_key(str(tmp_path / "new")) == key
    (tmp_path / "own").mkdir()
    (tmp_path / "own" / "secret_key").write_text("a key of our own\n")
    assert instance_secret_key(str(tmp_path / "own")) == "a key of our own"


def test_a_short_key_written_by_hand_is_used_at_once(tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import os
    import time

    from web import config

    key_file = tmp_path / "secret_key"
    key_file.write_text("short-hand-written-key\n")
    old = time.time() - 60
    os.utime(key_file, (old, old))

    def no_waiting(_seconds: float) -> None:
        raise AssertionError("waited for a key that is not being written")

    monkeypatch.setattr(config.time, "sleep", no_waiting)
    assert config.instance_secret_key(str(tmp_path)) == "short-hand-written-key"
