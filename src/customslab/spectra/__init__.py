"""Spectral identification core: file formats, preprocessing, scoring and library search.

Pure NumPy/SciPy: nothing here imports a web framework or a database.
"""
