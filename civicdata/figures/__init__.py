"""Figures from frames: plotly charts and maps, Leaflet maps, text alternatives, slides. Nothing about widgets."""
