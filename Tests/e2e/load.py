"""A load through nginx for tests that break things meanwhile: threads calling one function in a
loop until stopped."""

import threading


class Load:
    """Threads sending `call()` in a loop until stopped; collects what `call()` returns."""

    def __init__(self, call, threads=4):
        self.call, self.results, self.errors = call, [], []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads = [threading.Thread(target=self._run, daemon=True) for _ in range(threads)]

    def _run(self):
        n = 0
        while not self._stop.is_set():
            try:
                result = self.call(threading.get_ident(), n)
            except Exception as exc:  # noqa: BLE001 - a transport error is a failed request
                with self._lock:
                    self.errors.append(repr(exc))
            else:
                with self._lock:
                    self.results.append(result)
            n += 1

    def __enter__(self):
        for t in self._threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        for t in self._threads:
            t.join(60)
