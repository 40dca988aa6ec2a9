"""What serves the book's chapters: :func:`setup` for a notebook's setup cell, the
profiles, the experiments of each chapter, the chapters' figures and the paper's numbers."""

from ckatools.book.setup import setup

__all__ = ["setup"]
