"""Mask families (generated masks) and film-damage detection. Imports only gincli.core."""
