"""What a chapter's setup cell (after the install cell) calls: ``ckatools.book.setup()``.

Importing ``ckatools`` changes nothing global; a notebook opts in to the book's display.
"""

from __future__ import annotations

import sys

from ckatools.page import figure_png

__all__ = ["setup"]


def setup() -> bool:
    """In a running IPython: show matplotlib figures through :func:`figure_png`, and pandas
    tables with every column and the whole of every cell. False (and nothing done) elsewhere."""
    if "IPython" not in sys.modules:
        return False
    from IPython import get_ipython

    shell = get_ipython()
    if shell is None:
        return False
    import matplotlib
    import pandas as pd
    from matplotlib.figure import Figure

    if "inline" in (matplotlib.get_backend(auto_select=False) or ""):
        # The inline backend sets IPython's PNG formatter once, when it is first imported (on the
        # first figure): import it now, so that the formatter set below is the one it uses.
        import matplotlib_inline.backend_inline  # noqa: F401
    shell.display_formatter.formatters["image/png"].for_type(Figure, figure_png)
    pd.set_option("display.max_columns", None)
    pd.set_option("display.max_colwidth", None)
    pd.set_option("display.width", 100)  # the book's code lines (tests/test_book.py)
    return True
