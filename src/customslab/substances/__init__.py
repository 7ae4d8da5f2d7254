"""The register of controlled and regulated substances: what the UN conventions and an administration's
national lists control, read from CSV files, and the pure matching of a spectral hit against it.

Nothing here does I/O beyond reading the bundled CSV files of `data/` (package data); the national
lists a laboratory loads are stored by the services and handed back as text.
"""

from customslab.substances.register import (
    ControlEntry,
    ControlMatch,
    Regime,
    Register,
    RegisterError,
    Substance,
    bundled_register,
    cas_is_valid,
    normalise_name,
    parse_list,
)

__all__ = [
    "ControlEntry",
    "ControlMatch",
    "Regime",
    "Register",
    "RegisterError",
    "Substance",
    "bundled_register",
    "cas_is_valid",
    "normalise_name",
    "parse_list",
]
