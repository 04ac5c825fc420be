"""plugshare: the interoperability standard for UK councils' shared HR, payroll and revenues services."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("plugshare")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without installing
    __version__ = "0.0.0"
