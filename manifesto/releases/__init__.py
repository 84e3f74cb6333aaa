"""Releases: named, dated, immutable states of the whole document, and the redline between them."""
