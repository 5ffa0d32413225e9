"""Indicators: what a layer is (the catalogue and its descriptors), reading layers (bundled and analysts' own), the area profile, choropleth classes, IoD editions, trends and peers."""
