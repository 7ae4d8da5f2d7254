"""Compiled (Numba) posting-list accumulation for :mod:`customslab.spectra.search_pruned`.

The pruned search spends most of its time adding the terms of posting lists into the per-spectrum
sums, testing the bounds of the spectra met, and scoring the candidates left. NumPy adds in two
passes with a temporary (the terms, then ``np.add.at``); these loops do it in one, with no
temporary, one block of spectra at a time so that the sums being added to stay in cache. The
entropy loop adds a tabulated upper bound of each term instead of computing its logarithm. The
survivor test (for entropy, the bound from the library's common-ion sketch), the choice of the
spectra that raise the threshold, and the exact scoring of the candidates from the CSR peak table
are compiled passes too. Both paths score every candidate
exactly, so they return the same hits; the cosine scores are the same to the last bit, the entropy
scores to about 1e-15 (the compiled path takes its logarithms from the C library, NumPy from its own
vectorised code).

Numba is optional: :func:`kernels` returns None without it, and the search stays on NumPy. The
module that holds the loops is imported on first use (``import customslab`` never pays for Numba);
``cache=True`` keeps the machine code next to it, so only the first process on a machine compiles
(a few seconds), and later ones load it (:func:`warm_up`, called when a batch worker starts).
"""

from __future__ import annotations

from types import ModuleType

_module: ModuleType | None = None
_failed = False


def kernels() -> ModuleType | None:
    """The compiled loops (:mod:`customslab.spectra.search_kernel_loops`), or None without Numba."""
    global _module, _failed
    if _module is None and not _failed:
        try:
            from customslab.spectra import search_kernel_loops
        except ImportError:
            _failed = True
            return None
        _module = search_kernel_loops
    return _module


def available() -> bool:
    """Whether the compiled accumulation can run (Numba importable)."""
    return kernels() is not None


def warm_up() -> bool:
    """Compile the loops, or load them from Numba's cache, now rather than on the first query."""
    module = kernels()
    if module is None:
        return False
    module.warm_up()
    return True
