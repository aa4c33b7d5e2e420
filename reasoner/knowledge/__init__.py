"""The guideline modules as loaded: their graphs, query files and the compile cache."""
