"""A run directory is replaced whole or not at all, and its staging never
outlives the run (the kills themselves: tests/test_cli.py)."""

import threading

import pytest

from sdl_keras._files import remove_tree, staged_directory


def staging_left(parent):
    return [path.name for path in parent.iterdir() if ".staging-" in path.name]


def test_a_finished_block_replaces_the_target_and_a_failed_one_keeps_it(tmp_path):
    target = tmp_path / "run"
    with staged_directory(target, overwrite=False) as staging:
        (staging / "metrics.json").write_text("old")
    with pytest.raises(KeyboardInterrupt), staged_directory(target, True) as staging:
        (staging / "metrics.json").write_text("new, half")
        raise KeyboardInterrupt
    assert (target / "metrics.json").read_text() == "old"
    with staged_directory(target, overwrite=True) as staging:
        (staging / "metrics.json").write_text("new")
    assert (target / "metrics.json").read_text() == "new"
    assert staging_left(tmp_path) == []
    with (
        pytest.raises(FileExistsError, match="--overwrite"),
        staged_directory(target, overwrite=False),
    ):
        pass


def test_removal_outlasts_a_writer_still_adding_files(tmp_path):
    """An event-file thread can keep writing while the run unwinds: one
    pass of rmtree then leaves the directory behind."""
    staging = tmp_path / "staging"
    (staging / "logs").mkdir(parents=True)
    stopped = threading.Event()

    def keep_writing():  # new files in the folder it has, as such a thread does
        count = 0
        while not stopped.is_set():
            try:
                (staging / "logs" / f"events.{count}").write_bytes(b"event")
            except FileNotFoundError:  # the folder is gone
                return
            count += 1

    writer = threading.Thread(target=keep_writing)
    writer.start()
    threading.Timer(0.3, stopped.set).start()
    remove_tree(staging)
    writer.join()
    assert not staging.exists()
