"""``agents.interrupt``: SIGTERM raised as an exception inside the block, the handler restored after."""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest

from agents.interrupt import STOPS, Terminated, exit_code, sigterm_raises


def test_sigterm_inside_the_block_raises_terminated_and_the_handler_comes_back():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(Terminated), sigterm_raises():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # the handler runs at once and its exception ends the sleep
        pytest.fail("SIGTERM did not stop the block")
    assert signal.getsignal(signal.SIGTERM) is before


def test_exit_codes_follow_the_shell_convention():
    assert exit_code(Terminated()) == 143
    assert exit_code(KeyboardInterrupt()) == 130
    assert all(issubclass(stop, BaseException) and not issubclass(stop, Exception) for stop in STOPS)


def test_outside_the_main_thread_the_block_changes_nothing():
    seen = []

    def body():
        before = signal.getsignal(signal.SIGTERM)
        with sigterm_raises():
            seen.append(signal.getsignal(signal.SIGTERM) is before)

    thread = threading.Thread(target=body)
    thread.start()
    thread.join()
    assert seen == [True]
