"""lptui: a terminal console for Linux kernel live patching."""

__version__ = "0.1.0"
