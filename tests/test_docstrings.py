"""numpydoc validation of every public name, as scikit-learn's own test_docstrings.py does.

Every name in the ``__all__`` of a public module is validated, and so are the public methods and
properties that our classes define. The rules are numpydoc's, with scikit-learn's exceptions.
Names owned by other parts of the package that do not pass yet are listed in ``ALLOWED`` with
the error codes they may still raise; shrink it as they are fixed (a listed code that no longer
occurs fails the test, so the list cannot go stale).
"""

import importlib
import inspect

import pytest

numpydoc_validation = pytest.importorskip("numpydoc.validate")

PUBLIC_MODULES = [
    "skmetacmh",
    "skmetacmh.metrics",
    "skmetacmh.index",
    "skmetacmh.datasets",
    "skmetacmh.distributed",
    "skmetacmh.baselines",
    "skmetacmh.plotting",
    "skmetacmh.catalogue",
]

# As in scikit-learn: RT02 (the Returns line may name the value), GL01/GL02 (blank-line
# placement) are not checked; ES01/SA01/EX01 are required of top-level objects only.
IGNORED = {"RT02", "GL01", "GL02"}
TOP_LEVEL_ONLY = {"ES01", "SA01", "EX01"}

# Public name -> error codes it may still raise. Keyed by the public name, so that moving a
# class to another module does not change the list.
ALLOWED: dict = {}


def _public_objects():
    """``(public name, import path, is a method)`` of every object to validate, each once."""
    seen = set()
    for module_name in PUBLIC_MODULES:
        module = importlib.import_module(module_name)
        for name in module.__all__:
            obj = getattr(module, name)
            if not (inspect.isclass(obj) or inspect.isfunction(obj)):
                continue  # constants and the version string
            path = f"{obj.__module__}.{obj.__qualname__}"
            if path in seen:
                continue
            seen.add(path)
            public = f"{module_name}.{name}"
            yield public, path, False
            if inspect.isclass(obj):
                for attr, value in vars(obj).items():
                    if not attr.startswith("_") and (
                        callable(value) or isinstance(value, property)
                    ):
                        yield f"{public}.{attr}", f"{path}.{attr}", True


OBJECTS = list(_public_objects())


def _errors(path, is_method):
    result = numpydoc_validation.validate(path)
    return {
        (code, message)
        for code, message in result["errors"]
        if code not in IGNORED and not (is_method and code in TOP_LEVEL_ONLY)
    }


@pytest.mark.parametrize("public, path, is_method", OBJECTS, ids=[o[0] for o in OBJECTS])
def test_docstring(public, path, is_method):
    errors = _errors(path, is_method)
    allowed = ALLOWED.get(public, set())
    unexpected = sorted(f"{code}: {message}" for code, message in errors if code not in allowed)
    assert not unexpected, f"{public} ({path}):\n" + "\n".join(unexpected)
    stale = allowed - {code for code, _ in errors}
    assert not stale, f"{public} no longer raises {sorted(stale)}: remove them from ALLOWED"


def test_allow_list_names_only_public_objects():
    assert set(ALLOWED) <= {public for public, _, _ in OBJECTS}
