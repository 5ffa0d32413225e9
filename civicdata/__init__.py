"""Local Need Explorer's domain library: geography, layers, transit, metro lines, focus.

Never imports Streamlit (a test enforces it); pages and the CLI call the same functions.
"""

__version__ = "0.1.0"
