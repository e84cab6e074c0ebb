"""The demo city's fieldwork catalogues as data (read by fieldwork.seeds)."""
