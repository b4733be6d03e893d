"""Who reacts when a case moves: the handlers of the step runner, installed once per process.

`cases` records events and knows none of its subscribers; this is the one place that names
them, in the order they run (the clocks first, so that news and deliveries see them moved).
The app factory and the workers call `install()`; a unit of work refuses to record an event
before it has run.
"""

from service.cases.steps import HANDLERS, Handlers
from service.clocks import tracking
from service.districts import delivery
from service.materials import service as materials


def install(handlers: Handlers = HANDLERS) -> None:
    """Register every package's handlers, once."""
    if handlers.installed:
        return
    for package in (tracking, materials, delivery):
        package.subscribe(handlers)
    handlers.installed = True
