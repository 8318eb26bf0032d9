"""The faults a fake (Discord, Slack, an HTTPS receiver) plays, per target (a webhook id, a
path): queued ones, used one per request in order, then one for every request after. The fake
holds its own lock around every call; each fake says what its faults are and normalises them."""

from collections import deque


class FaultPlan:
    def __init__(self, normalise):
        self._normalise = normalise
        self._queued = {}
        self._always = {}

    def queue(self, target, faults):
        """Faults for the next requests to `target`, after any queued before."""
        self._queued.setdefault(target, deque()).extend(self._normalise(f) for f in faults)

    def always(self, target, fault):
        """A fault for every request to `target` once its queue is used up; None clears it."""
        if fault is None:
            self._always.pop(target, None)
        else:
            self._always[target] = self._normalise(fault)

    def next(self, target):
        """The fault for this request to `target`, or None."""
        queued = self._queued.get(target)
        if queued:
            fault = queued.popleft()
            if not queued:
                del self._queued[target]
            return fault
        return self._always.get(target)
