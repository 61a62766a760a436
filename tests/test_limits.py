"""The bounded queue for heavy work: never more than `slots` at once, waiting users told their place."""

import threading
import time

import pytest

from explorer.jobs.queue import BusyError, WorkQueue


def test_never_more_than_slots_run_at_once():
    queue = WorkQueue(slots=2)
    peak, running, lock = [0], [0], threading.Lock()
    places = []

    def job():
        with queue.slot(on_wait=places.append):
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.05)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=job) for _ in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2
    assert places and min(places) >= 1  # at least one user was told they were queued
    assert queue.running == 0 and queue.waiting == 0


def test_gives_up_with_a_clear_message():
    queue = WorkQueue(slots=1, max_wait_s=0.1)
    release = threading.Event()

    def hold():
        with queue.slot():
            release.wait(5)

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.05)
    with pytest.raises(BusyError, match="busy"):
        with queue.slot():
            pass
    release.set()
    holder.join()
    with queue.slot():  # free again
        assert queue.running == 1


def test_slot_is_released_when_the_work_fails():
    queue = WorkQueue(slots=1)
    with pytest.raises(RuntimeError):
        with queue.slot():
            raise RuntimeError("boom")
    assert queue.running == 0
    with queue.slot():
        pass
