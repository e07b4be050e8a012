"""Sphinx configuration for the skmetacmh documentation.

Build with warnings as errors (the test suite does the same)::

    sphinx-build -W --keep-going -b html docs docs/_build/html

Kept fast on purpose: no gallery and no executed notebooks; the examples are plain scripts that
``tests/test_examples.py`` runs, included here as source.
"""

import os
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
# Make the package importable from a source checkout that was not pip-installed.
sys.path.insert(0, str(HERE.parent))
os.environ.setdefault("MPLBACKEND", "Agg")

import skmetacmh  # noqa: E402

project = "skmetacmh"
author = "the skmetacmh developers"
copyright = "2026, the skmetacmh developers"
release = skmetacmh.__version__
version = ".".join(release.split(".")[:2])

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
]

templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
root_doc = "index"

# API pages are generated from the docstrings at build time (into api/generated, gitignored).
autosummary_generate = True
autosummary_imported_members = True
# The class template (_templates/autosummary/class.rst) documents the methods itself, those
# inherited from the skmetacmh base class included; scikit-learn's get_params, set_output, ...
# are left to scikit-learn's documentation.
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

html_theme = "pydata_sphinx_theme"
html_title = f"skmetacmh {release}"
html_static_path = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "secondary_sidebar_items": ["page-toc"],
}
html_show_sourcelink = False


# --------------------------------------------------------------------------- docstring hygiene
# scikit-learn style names a learned attribute with a trailing underscore ("n_text_features_").
# Written bare in a docstring (a shape in a type, free text), reStructuredText reads "word_" as
# a link to a target named "word", an error under -W. Escape such words outside literals before
# numpydoc parses the docstring; parameter and attribute names (left of " : ") stay untouched.
_LITERAL = re.compile(r"(``.*?``|`[^`]*`)")
_TRAILING_UNDERSCORE = re.compile(r"(?<![\w\\`])([A-Za-z](?:[A-Za-z0-9_]*[A-Za-z0-9])?)_(?![\w`])")
_FIELD = re.compile(r"^(\s*[\w, *\\]+ : )(.*)$")


def _escape(text: str) -> str:
    parts = _LITERAL.split(text)
    return "".join(
        part if part.startswith("`") else _TRAILING_UNDERSCORE.sub(r"\1\\_", part) for part in parts
    )


def _escape_trailing_underscores(app, what, name, obj, options, lines):
    for i, line in enumerate(lines):
        field = _FIELD.match(line)
        if field:
            lines[i] = field.group(1) + _escape(field.group(2))
        elif not line.startswith((" ", "\t")):
            # An unindented line is a name line of a numpydoc section (or plain text, which
            # rarely names attributes outside literals); leave names alone.
            continue
        else:
            lines[i] = _escape(line)


def setup(app):
    # Before numpydoc (default priority 500) turns the sections into reStructuredText.
    app.connect("autodoc-process-docstring", _escape_trailing_underscores, priority=400)
