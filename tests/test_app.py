"""AppTest: every page runs on the bundled data without an exception."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def test_home_page_lists_layers_and_sources():
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("views/home.py").run()
    assert not at.exception
    assert at.title[0].value == "Local Need Explorer"
    metrics = {m.label: m.value for m in at.metric}
    assert int(metrics["Layers"]) >= 100
    assert "Open Government Licence" in at.main.caption[-1].value  # the footer ends the page
