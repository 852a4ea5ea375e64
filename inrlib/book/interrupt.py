"""How a live control's click runs: a kernel interrupt (SIGINT) delivered to its thread, the
Stopped it ends with, and no progress bar but the live view's."""
import contextlib
import ctypes
import os
import signal
import threading

from IPython import get_ipython


@contextlib.contextmanager
def interruptible():
    """Let a kernel interrupt (SIGINT) stop the code run inside, wherever the click is handled.

    ipykernel ignores SIGINT between its handlers, and JupyterLab 4.6 sends widget messages to
    a kernel subshell, a thread of its own, while signals reach the main thread only. So the
    main thread gets a handler that raises KeyboardInterrupt in the thread running the click.
    """
    if threading.current_thread() is threading.main_thread():
        previous = signal.signal(signal.SIGINT, signal.default_int_handler)
        try:
            yield
        finally:
            signal.signal(signal.SIGINT, previous)
        return
    loop = main_loop()
    if loop is None:  # not in an ipykernel: nothing can deliver an interrupt here
        yield
        return
    target = threading.get_ident()

    def stop_run(signum, frame):
        ctypes.pythonapi.PyThreadState_SetAsyncExc(ctypes.c_ulong(target),
                                                   ctypes.py_object(KeyboardInterrupt))

    saved = []
    installed = threading.Event()

    def install():
        saved.append(signal.signal(signal.SIGINT, stop_run))
        installed.set()

    loop.add_callback(install)
    installed.wait(5)  # the main thread is idle in its event loop while a subshell runs
    try:
        yield
    finally:
        if saved:
            loop.add_callback(signal.signal, signal.SIGINT, saved[0])


def main_loop():
    """The kernel's main-thread event loop (tornado's add_callback is thread-safe), or None
    outside an ipykernel."""
    shell = get_ipython()
    kernel = getattr(shell, "kernel", None)
    return getattr(kernel, "io_loop", None)


class Stopped(KeyboardInterrupt):
    """A live run that the user interrupted (kernel interrupt) after `step` steps."""

    def __init__(self, step):
        super().__init__(f"stopped at step {step}")
        self.step = step


@contextlib.contextmanager
def one_progress_view():
    """Inner tqdm bars off during a live run: its TrainingView is the progress view, and a
    tqdm widget that closes itself leaves "Error displaying widget" in the saved output."""
    before = os.environ.get("INR_PROGRESS")  # the variable inrlib's fit reads
    os.environ["INR_PROGRESS"] = "0"
    try:
        yield
    finally:
        if before is None:
            del os.environ["INR_PROGRESS"]
        else:
            os.environ["INR_PROGRESS"] = before
