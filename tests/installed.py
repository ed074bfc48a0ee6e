"""Optional dependencies in tests: skip only when one is not installed at all.

`pytest.importorskip` also skips when an installed package fails to import (trafilatura
once did, when lxml moved `lxml.html.clean` out), hiding exactly the breakage a user
meets; `require` lets that ImportError fail the test.
"""

from __future__ import annotations

import importlib
import importlib.metadata
from types import ModuleType

import pytest


def require(module: str, distribution: str | None = None) -> ModuleType:
    """Import `module`; skip the test only when its distribution (default: the module's
    name) is not installed."""
    name = distribution or module
    try:
        importlib.metadata.distribution(name)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"{name} is not installed")
    return importlib.import_module(module)
