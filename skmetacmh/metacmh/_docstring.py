"""The deep hashers' parameter docs, written once in :class:`~skmetacmh.MetaCMHHasher`'s docstring.

MetaCMH documents the family's full signature. A hasher whose signature is derived from it
(``_signature.derived_init``) takes its Parameters section from there too, through
:func:`derived_parameters`: MetaCMH's entries, less the parameters it fixes, with its own text
for those whose default it changes. So a new MetaCMH option is documented once, and the derived
docstrings list it where the derived signatures have it.
"""

from __future__ import annotations

import re

__all__ = ["derived_parameters", "parameter_entries"]

# In a class docstring a parameter's first line is indented by four spaces, its description by
# eight; the section ends at the blank line before the next section's underlined title.
_SECTION = re.compile(r"\n    Parameters\n    -+\n(?P<body>.*?)\n\n    \w[\w ]*\n    -+\n", re.S)
_ENTRY = re.compile(r"^    (?P<names>[A-Za-z_][\w, *]*) : ", re.M)


def parameter_entries(doc: str | None) -> dict[str, str]:
    """The entries of ``doc``'s Parameters section, by name, each as written.

    An entry that documents several names at once (``a, b : int``) is listed under each.
    ``None`` (docstrings stripped by ``python -OO``) gives ``{}``.
    """
    if doc is None:
        return {}
    section = _SECTION.search(doc)
    if section is None:
        raise ValueError("the docstring has no numpydoc Parameters section")
    body = section.group("body")
    starts = [m.start() for m in _ENTRY.finditer(body)]
    entries = {}
    for start, end in zip(starts, [*starts[1:], len(body)]):
        text = body[start:end].rstrip("\n")
        names = _ENTRY.match(text).group("names")
        for name in names.split(","):
            entries[name.strip()] = text.strip()
    return entries


def derived_parameters(base: type, *, drop=(), override: dict | None = None) -> str:
    """The Parameters entries of ``base``'s docstring, less ``drop``, with ``override``'s text.

    The result continues at the indentation of a Parameters section (a ``{parameters}``
    placeholder of :class:`~skmetacmh._docstring.Substitution`).
    """
    entries = parameter_entries(base.__doc__)
    override = dict(override or {})
    unknown = set(override) - set(entries)
    if unknown:
        raise KeyError(f"{base.__name__} documents no parameters {sorted(unknown)}")
    kept = [override.get(name, text) for name, text in entries.items() if name not in drop]
    return "\n    ".join(kept)
