"""Where the settings, rule lists, stop words and demo site are read from.

An installed linkaudit (a wheel, ``pip install .``) holds them as package data under
``linkaudit/_data``, read through :mod:`importlib.resources`. A clone of the repository, or
an editable install of it, reads them from the repository's own ``config/`` and ``demo/``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent


def data_dir(name: str) -> Path:
    """The folder ``name`` ("config" or "demo") of this installation."""
    packaged = files("linkaudit") / "_data" / name
    if packaged.is_dir():
        # Installed from a wheel into a folder (pip never installs zipped): a real path.
        return Path(str(packaged))
    return REPOSITORY / name


def config_file(*parts: str) -> Path:
    """A file of the bundled ``config/`` folder, e.g. ``config_file("promo.toml")``."""
    return data_dir("config").joinpath(*parts)
