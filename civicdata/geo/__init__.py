"""Geography: codes and boundaries (LSOA 2011/2021, MSOA, wards, districts), readable names, orientation (ward names and outlines on a map), and places people make (custom areas, PCNs)."""
