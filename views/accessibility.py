"""Accessibility statement, as UK public-sector sites publish one (linked from every page's footer)."""

from __future__ import annotations

import streamlit as st

from views import _shared

st.title("Accessibility statement")
st.markdown("""
This statement applies to **Local Need Explorer**, an open-source app that councils, NHS trusts and school trusts
run for themselves. The organisation running this copy is responsible for it; the project keeps the app itself
accessible and tested.

We want as many people as possible to be able to use it. You should be able to:

- change colours, contrast and fonts with your browser or operating system, and zoom up to 400% (the pages reflow
  to a single column on narrow screens — the workshop join view is built for a 390 px phone);
- move through every control with a keyboard only: choose a place and a layer, open an area's details, set the
  Strategic focus weights and shortlist, step through slides in presentation mode (→, ← and Esc), join and vote in
  a workshop;
- hear what each map and chart shows with a screen reader: every map and chart has a sentence **In words** next to
  it, and the table behind it one click away (or on the page).

### How accessible the app is

The app aims to meet the **Web Content Accessibility Guidelines (WCAG) version 2.2 at level AA**. It is checked on
every change by automated tests in a real browser (Debian's Chromium): axe-core's WCAG 2.0, 2.1 and 2.2 A and AA
rules on every page in the menu — including the Trust and Workshop pages and the workshop's phone and projector
views — at 1920×1080, in presentation mode at 1280×720, and at 390×844, must report **no serious or critical
violations**; keyboard-only tests walk the main flows. Colours: text is near-black on white (captions 4.9:1);
map classes use the colour-blind-safe viridis scale and always come with a legend in words.

### What is not accessible yet, and why

- **Individual areas on the plotly maps and the schools on the Leaflet maps cannot be reached with the keyboard.**
  Every one of them can be chosen from a list instead (*Area* on the Area map, *Draw the journey from* on School to
  clinic, the schools table on Trust), and the map's sentence and table give the same information.
- **The interactive tables** (Streamlit's data grid) are drawn on a canvas: screen readers read them cell by cell
  with limited navigation. Each has a CSV download with the same data.
- **Maps with base-map tiles** (an option, off by default) need the internet and show third-party imagery that
  has no text alternative; the boundaries and the sentence do not depend on it.
- **Automated tests do not find everything.** Automated checks catch only part of WCAG; the app has not yet had a
  full manual audit with assistive-technology users. We plan one before the first deployment by a public body.

### Reporting a problem

If you find a problem not listed here, or need information in a different format, contact the organisation that
runs this copy, or open an issue on the project's public repository describing the page, what you tried and the
assistive technology you use. We aim to reply within 5 working days.

### Enforcement procedure

In the UK the Equality and Human Rights Commission (EHRC) enforces the Public Sector Bodies (Websites and Mobile
Applications) (No. 2) Accessibility Regulations 2018. If you are not happy with how a public body responds to
your complaint, contact the Equality Advisory and Support Service (EASS).

*This statement was prepared on 27 November 2026 from the automated browser tests described above.*
""")
_shared.footer()
