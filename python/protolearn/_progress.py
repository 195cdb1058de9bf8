"""A text progress bar on stderr for ``fit`` (one line per training phase, redrawn in place at
most ten times a second)."""

import sys
import time


class ProgressBar:
    """The callback ``protolearn._native.fit`` calls: ``bar(event, phase, done, total, message)``."""

    width = 30
    interval = 0.1

    def __init__(self, stream=None):
        self.stream = stream if stream is not None else sys.stderr
        self.start = self.drawn = time.monotonic()
        self.message = ""

    def __call__(self, event, phase, done, total, message):
        now = time.monotonic()
        if event == "start":
            self.start, self.drawn, self.message = now, 0.0, ""
        if message:
            self.message = message
        if event == "log" and now - self.drawn < self.interval and done < total:
            return
        self.drawn = now
        filled = self.width * done // total if total else self.width
        bar = "=" * filled + " " * (self.width - filled)
        line = f"\r{phase:>14} [{bar}] {done}/{total} {self.message} ({now - self.start:.1f} s)"
        self.stream.write(line + ("\n" if event == "end" else ""))
        self.stream.flush()
