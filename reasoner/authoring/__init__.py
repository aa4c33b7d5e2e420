"""Tools for guideline authors: test cases, coverage, QC checks, diff, canonical Turtle."""
