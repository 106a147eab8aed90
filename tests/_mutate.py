"""Apply one source mutation to a loaded module for the length of a test.

``mutate(monkeypatch, module, old, new)`` re-executes the module's source with the first
``old`` replaced by ``new`` and puts every changed function (and method of a class) in place
of the original, in every loaded module that imported it by name; ``monkeypatch`` undoes
it. The module's classes keep their identity (their methods are swapped), so objects
built before and after stay of one type.
"""

from __future__ import annotations

import inspect
import sys
import types
from typing import Any

import pytest


def _swap_everywhere(mp: pytest.MonkeyPatch, name: str, orig: Any, new: Any) -> None:
    for mod in list(sys.modules.values()):
        if getattr(mod, "__dict__", None) is not None and mod.__dict__.get(name) is orig:
            mp.setattr(mod, name, new)


def mutate(mp: pytest.MonkeyPatch, module: types.ModuleType, old: str, new: str) -> None:
    package = sys.modules.get(module.__name__.rpartition(".")[0])
    for name in getattr(package, "__all__", ()):  # resolve lazy exports (PEP 562) first, so
        getattr(package, name)  # the package's cache holds originals that are swapped back
    source = inspect.getsource(module)
    if "mutmut generated" in source:  # under mutation testing the file is mutmut's own
        pytest.skip("the module is a mutmut trampoline file; mutated by hand only outside it")
    assert source.count(old) >= 1, f"{old!r} is not in {module.__name__}"
    ns: dict[str, Any] = {"__name__": module.__name__, "__file__": module.__file__}
    exec(compile(source.replace(old, new, 1), str(module.__file__), "exec"), ns)
    for name, value in list(ns.items()):
        orig = module.__dict__.get(name)
        if inspect.isclass(orig) and inspect.isclass(value) and orig.__module__ == module.__name__:
            ns[name] = orig  # keep the class identity; swap what changed inside it
            for attr, member in vars(value).items():
                if attr.startswith("__") and attr not in ("__post_init__",):
                    continue
                mp.setattr(orig, attr, member)
    for name, value in list(ns.items()):
        orig = module.__dict__.get(name)
        if callable(orig) and not inspect.isclass(orig) and callable(value) and value is not orig:
            if getattr(orig, "__module__", None) == module.__name__:
                _swap_everywhere(mp, name, orig, value)
