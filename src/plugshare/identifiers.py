"""UK identifiers and codes: their grammar, normalisation and checks.

Pure functions with no dependency on the models, so that adapters can clean
vendor values before building canonical records, and the rules and models
share one definition of each identifier. Every pattern here is portable
(no look-around), because the published schemas embed them and validators in
other languages (and pydantic-core's Rust engine) must accept them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# National Insurance number. First letter not D F I Q U V; second not D F I O Q U V;
# suffix A-D. The never-issued prefixes are excluded separately (no look-ahead).
NINO_PATTERN = r"^[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z][0-9]{6}[A-D]$"
NINO_EXCLUDED_PREFIXES = ("BG", "GB", "KN", "NK", "NT", "TN", "ZZ")
NINO_EXCLUDED_PATTERN = "^(" + "|".join(NINO_EXCLUDED_PREFIXES) + ")"

# Postcodes: the six outward forms with Royal Mail's letter restrictions, the
# inward code, GIR 0AA, BFPO numbers and British overseas territories.
_AREA = "[A-PR-UWYZ]"
_DISTRICT2 = "[A-HK-Y]"
_OUTWARD = (
    f"{_AREA}[0-9]{{1,2}}"
    f"|{_AREA}{_DISTRICT2}[0-9]{{1,2}}"
    f"|{_AREA}[0-9][A-HJKPSTUW]"
    f"|{_AREA}{_DISTRICT2}[0-9][ABEHMNPRVWXY]"
)
_INWARD = "[0-9][ABD-HJLNP-UW-Z]{2}"
OVERSEAS_TERRITORY_POSTCODES = (
    "ASCN 1ZZ", "BBND 1ZZ", "BIQQ 1ZZ", "FIQQ 1ZZ", "GX11 1AA",
    "PCRN 1ZZ", "SIQQ 1ZZ", "STHL 1ZZ", "TDCU 1ZZ", "TKCA 1ZZ",
)
POSTCODE_PATTERN = (
    f"^(({_OUTWARD}) {_INWARD}|GIR 0AA|BFPO [0-9]{{1,4}}|"
    + "|".join(OVERSEAS_TERRITORY_POSTCODES)
    + ")$"
)

# ONS GSS codes of councils: E06 unitary, E07 district, E08 metropolitan district,
# E09 London borough, E10 county, W06 Welsh principal area, S12 Scottish council
# area, N09 Northern Ireland district.
COUNCIL_GSS_PATTERN = "^(E0[6-9]|E10|W06|S12|N09)[0-9]{6}$"

UPRN_MAX = 999_999_999_999  # up to 12 digits
USRN_MAX = 99_999_999  # up to 8 digits

PAYE_REFERENCE_PATTERN = r"^[0-9]{3}/[A-Z0-9]{1,10}$"
ACCOUNTS_OFFICE_REFERENCE_PATTERN = r"^[0-9]{3}P[A-Z][0-9]{7}[0-9X]$"
SORT_CODE_PATTERN = "^[0-9]{6}$"
ACCOUNT_NUMBER_PATTERN = "^[0-9]{8}$"

# Tax codes as RTI carries them: the code without its regime prefix or basis.
TAX_CODE_PATTERN = "^([0-9]{1,6}[LMNT]|K[0-9]{1,6}|BR|0T|NT|D[0-3])$"
TAX_REGIMES = ("S", "C")  # Scotland, Wales (Cymru); absent means the rest of the UK
_EMERGENCY_BASES = ("W1", "M1", "X")


def gss_problem(value: str) -> str | None:
    """Why ``value`` is not the GSS code of a council, or None when it is."""
    if re.fullmatch(COUNCIL_GSS_PATTERN, value):
        return None
    return (f"{value!r} is not a council's ONS GSS code: E06, E07, E08, E09, E10, W06, S12 or N09 "
            "followed by six digits, e.g. E07000991")


def normalise_nino(value: str) -> str:
    """Upper-case and remove spaces, the form the standard carries."""
    return re.sub(r"\s+", "", value).upper()


def nino_problem(value: str) -> str | None:
    """Why a (normalised) NI number is not valid, or None."""
    if not re.fullmatch(NINO_PATTERN, value):
        return (
            "an NI number is two prefix letters, six digits and a suffix A-D; "
            "the first letter cannot be D, F, I, Q, U or V and the second cannot be D, F, I, O, Q, U or V"
        )
    if value[:2] in NINO_EXCLUDED_PREFIXES:
        return f"the prefix {value[:2]} is never issued"
    return None


def normalise_postcode(value: str) -> str:
    """Upper-case with exactly one space before the inward code."""
    compact = re.sub(r"\s+", "", value).upper()
    if compact.startswith("BFPO"):
        return f"BFPO {compact[4:]}"
    if len(compact) < 5:
        return compact
    return f"{compact[:-3]} {compact[-3:]}"


def is_postcode(value: str) -> bool:
    return re.fullmatch(POSTCODE_PATTERN, value) is not None


def mask_nino(value: str) -> str:
    """Show only the prefix letters, for reports and logs."""
    return value[:2] + "*" * max(len(value) - 2, 0)


@dataclass(frozen=True)
class TaxCode:
    """A PAYE tax code in RTI's parts."""

    code: str
    regime: str | None = None
    non_cumulative: bool = False

    def as_dict(self) -> dict:
        out: dict = {"code": self.code}
        if self.regime:
            out["regime"] = self.regime
        if self.non_cumulative:
            out["non_cumulative"] = True
        return out


def tax_code_problem(code: str, regime: str | None) -> str | None:
    """Why a code cannot be used under a regime, or None.

    D2 and D3 exist only in Scotland (the advanced and top rates); NT carries no
    regime prefix.
    """
    if not re.fullmatch(TAX_CODE_PATTERN, code):
        return f"{code!r} is not a PAYE tax code"
    if code in ("D2", "D3") and regime != "S":
        return f"{code} exists only under the Scottish regime (S{code})"
    if code == "NT" and regime is not None:
        return f"NT takes no regime prefix ({regime}NT is not a tax code)"
    return None


def parse_tax_code(text: str) -> TaxCode:
    """Split a tax code as printed on a payslip (``S1257L W1``, ``CBR``, ``K475X``).

    Raises ValueError with a reason when the text is not a tax code.
    """
    compact = re.sub(r"\s+", "", text).upper()
    for basis in ("", *_EMERGENCY_BASES):
        if basis and not compact.endswith(basis):
            continue
        body = compact[: len(compact) - len(basis)]
        for regime in (*TAX_REGIMES, None):
            if regime and not body.startswith(regime):
                continue
            core = body[1:] if regime else body
            if re.fullmatch(TAX_CODE_PATTERN, core):
                problem = tax_code_problem(core, regime)
                if problem:
                    raise ValueError(problem)
                return TaxCode(core, regime, bool(basis))
    raise ValueError(f"{text!r} is not a tax code")


def format_tax_code(tax_code: TaxCode) -> str:
    """The printed form, e.g. ``S1257L`` or ``1257L X`` when non-cumulative."""
    text = (tax_code.regime or "") + tax_code.code
    return f"{text} X" if tax_code.non_cumulative else text
