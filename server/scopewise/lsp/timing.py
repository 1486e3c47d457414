"""`timed`: a handler's server-side time, logged (logger scopewise.lsp.timing, INFO; the
benchmarks read it)."""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

timing = logging.getLogger("scopewise.lsp.timing")
F = TypeVar("F", bound=Callable[..., Any])


def timed(method: str) -> Callable[[F], F]:
    """Log a handler's server-side time (logger scopewise.lsp.timing, INFO)."""

    def wrap(fn: F) -> F:
        @functools.wraps(fn)
        def inner(*args: Any, **kwargs: Any) -> Any:
            if not timing.isEnabledFor(logging.INFO):
                return fn(*args, **kwargs)
            t0 = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                timing.info("%s %.3f ms", method, (time.perf_counter() - t0) * 1000)

        return inner  # type: ignore[return-value]

    return wrap
