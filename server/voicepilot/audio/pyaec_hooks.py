"""The one reach into pyaec's internals: its ctypes function called on numpy's buffers directly.

pyaec's ``Aec.cancel_echo`` takes and returns Python lists, a conversion that costs about as much
as the cancellation. :func:`direct_canceller` calls its library's ``AecCancelEcho`` with the
canceller's private handle (``Aec._aec``) instead, only on the tested minor release
(``TESTED_PYAEC``) and when the module still has that layout; otherwise the public method is used and
:func:`direct_canceller` says why (the session's diagnostics carry it as ``pyaecHooks``).
"""

from __future__ import annotations

import ctypes
import importlib.metadata
from collections.abc import Callable
from types import ModuleType
from typing import Any

import numpy as np

from voicepilot.audio.frames import Pcm

TESTED_PYAEC = "1.0"  # pyproject.toml pins the same minor release
ACTIVE = "active"

Canceller = Callable[[Pcm, Pcm], Pcm]


def installed_pyaec() -> str:
    try:
        return importlib.metadata.version("pyaec")
    except importlib.metadata.PackageNotFoundError:
        return "(not installed)"


def version_problem(version: str, tested: str = TESTED_PYAEC) -> str | None:
    """Why pyaec ``version`` is not the tested minor release, or None if it is."""
    if version == tested or version.startswith(tested + "."):
        return None
    return f"pyaec {version} is not the tested {tested}"


def direct_canceller(module: ModuleType, aec: Any, version: str | None = None) -> tuple[Canceller | None, str]:
    """``aec``'s (a ``module.Aec``) cancellation on numpy buffers, or None; and the status: "active",
    or "fallback: <reason>" when the public, slower ``cancel_echo`` is to be used."""
    problem = version_problem(installed_pyaec() if version is None else version)
    if problem is not None:
        return None, f"fallback: {problem}"
    # pyaec 1.0.x: module-level ``lib.AecCancelEcho(handle, rec*, echo*, out*, n)``, ``Aec._aec`` the handle.
    function = getattr(getattr(module, "lib", None), "AecCancelEcho", None)
    argtypes = getattr(function, "argtypes", None)
    int16_p = ctypes.POINTER(ctypes.c_int16)
    handle = getattr(aec, "_aec", None)
    if function is None or argtypes is None or len(argtypes) != 5 or list(argtypes[1:4]) != [int16_p] * 3:
        return None, "fallback: pyaec's library has no AecCancelEcho of the expected shape"
    if not handle:
        return None, "fallback: pyaec's canceller has no handle"

    def cancel(near: Pcm, far: Pcm) -> Pcm:
        near = np.ascontiguousarray(near, dtype=np.int16)
        far = np.ascontiguousarray(far, dtype=np.int16)
        out = np.empty(near.size, dtype=np.int16)
        function(
            handle, near.ctypes.data_as(int16_p), far.ctypes.data_as(int16_p), out.ctypes.data_as(int16_p), near.size
        )
        return out

    return cancel, ACTIVE
