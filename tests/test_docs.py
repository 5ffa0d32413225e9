"""docs/ is checked as the README is: every setting and HAProxy line the deployment page names is real."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
DEPLOY_DOC = REPO / "docs" / "deploy.md"


def _settings_rows(text: str) -> list[tuple[str, str]]:
    """(setting cell, where cell) of the table under "Run on several servers"."""
    part = text[text.index("## Run on several servers"):]
    return [(m.group(1), m.group(2)) for m in re.finditer(r"^\| (.+?) \| (.+?) \| .+ \|$", part, re.M)
            if not m.group(1).startswith(("setting", "---", "set-up"))]


def test_readme_links_every_doc_and_each_exists():
    readme = (REPO / "README.md").read_text()
    for doc in (REPO / "docs").glob("*.md"):
        assert f"(docs/{doc.name})" in readme, f"README does not link docs/{doc.name}"
    for link in re.findall(r"\]\((docs/[^)]+)\)", readme):
        assert (REPO / link).is_file(), link


def test_every_environment_variable_in_the_deployment_doc_is_read_by_the_app_or_compose():
    doc = DEPLOY_DOC.read_text()
    code = "\n".join(p.read_text() for p in (REPO / "civicdata").rglob("*.py"))
    compose = (REPO / "deploy" / "compose.yaml").read_text()
    named = set(re.findall(r"\b(CIVICDATA_[A-Z_]+|STREAMLIT_[A-Z_]+|LNE_[A-Z_]+)\b", doc))
    assert {"CIVICDATA_DB_URL", "CIVICDATA_SERVER_NAME", "STREAMLIT_SERVER_COOKIE_SECRET"} <= named
    for var in named:
        assert f'"{var}"' in code or var in compose, f"docs/deploy.md names {var}, which nothing reads or sets"


def test_the_settings_table_matches_compose_and_haproxy():
    doc = DEPLOY_DOC.read_text()
    cfg = (REPO / "deploy" / "haproxy.cfg").read_text()
    compose = yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())
    env = {name: svc.get("environment", {}) for name, svc in compose["services"].items()}
    rows = _settings_rows(doc)
    assert len(rows) >= 8
    for setting, where in rows:
        for piece in re.findall(r"`([^`]+)`", setting):
            if where == "`haproxy.cfg`":
                assert piece in cfg, f"docs/deploy.md says haproxy.cfg has `{piece}`"
            elif piece.isupper() and piece.startswith(("CIVICDATA_", "STREAMLIT_")):
                servers = [e for n, e in env.items() if n.startswith("app")]
                if "the same" in where or "its own (`a`" in where:
                    assert all(piece in e for e in servers) or piece == "CIVICDATA_HOME", piece
    # each app server's name is the cookie value HAProxy pins it with
    names = sorted(e["CIVICDATA_SERVER_NAME"] for n, e in env.items() if n.startswith("app"))
    assert names == sorted(re.findall(r"^\s*server (\w+) .* cookie (\w+)$", cfg, re.M)[i][1] for i in range(len(names)))


def test_the_performance_doc_shows_the_latest_benchmark_figures():
    """docs/performance.md quotes bench/pages_latest.csv and bench/renderers_latest.csv, figure by figure (the
    benchmarks write the CSVs; a figure changed in one and not the other fails here)."""
    import csv

    doc = (REPO / "docs" / "performance.md").read_text()
    with open(REPO / "bench" / "pages_latest.csv") as fh:
        pages = list(csv.DictReader(fh))
    assert len(pages) >= 20
    for row in pages:
        line = next((ln for ln in doc.splitlines() if ln.startswith(row["figure"] + " ")), None)
        assert line is not None, f"docs/performance.md lacks the figure {row['figure']!r}"
        assert f"{float(row['seconds']):.2f}" in line.split(), (row["figure"], line)
    with open(REPO / "bench" / "renderers_latest.csv") as fh:
        renderers = list(csv.DictReader(fh))
    for row in renderers[1:]:
        line = next((ln for ln in doc.splitlines() if ln.startswith(f"| {row['renderer']} | {row['view']} |")), None)
        assert line is not None, (row["renderer"], row["view"])
        assert f"{float(row['first_draw_s']):.2f}" in line and f"{float(row['colour_change_s']):.2f}" in line, line
