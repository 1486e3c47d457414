"""scopewise: a language server that spends Claude's reasoning where the change is wide."""

__version__ = "0.1.0"
