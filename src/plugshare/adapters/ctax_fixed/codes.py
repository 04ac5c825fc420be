"""The legacy system's own codes and their translations into the standard.

Where several legacy codes share one canonical value (the disregard codes,
exemption F1 and F2, debit and credit cards), the first listed is written for
the value; a record read with another is kept in extensions under the field's
name so that writing restores it (see :func:`to_native`).
"""

from __future__ import annotations

from plugshare.adapters.contract import RecordError
from plugshare.adapters.mapping import CodeList

BANDS = CodeList("band code", {"1": "A", "2": "B", "3": "C", "4": "D", "5": "E", "6": "F", "7": "G", "8": "H",
                               "9": "I"}, case_sensitive=True)

VALUATION_LISTS = CodeList("valuation list code", {
    "E91": "england-1991", "W03": "wales-2003", "S91": "scotland-1991",
})

ACCOUNT_STATUSES = CodeList("account status", {"L": "open", "C": "closed"})

ROLES = CodeList("liability role", {
    "OO": "owner_occupier", "TN": "tenant", "JT": "joint", "OE": "owner_of_empty", "LH": "landlord_hmo",
    "EX": "executor",
})

#: P a person (title, forename, middle names, surname); O an organisation (its name in the surname field)
PARTY_KINDS = ("P", "O")

DISCOUNTS = CodeList("discount code", {
    "SPD": "single_person",       # single person discount, 25%
    "DSD": "status_disregard",    # status disregard, reason not recorded
    "DST": "status_disregard",    # student disregard
    "DSM": "status_disregard",    # severely mentally impaired disregard
    "DCR": "status_disregard",    # carer disregard
    "DAP": "status_disregard",    # apprentice or youth trainee disregard
    "EMP": "empty_property",      # the council's empty property discount
    "LOC": "local",               # discretionary discount (section 13A)
})

#: exemption classes as the legacy system codes them; classes A and C were abolished on 1 April 2013
EXEMPTIONS = CodeList("exemption code", {
    "B1": "B", "D": "D", "E": "E", "F1": "F", "F2": "F", "G": "G", "H": "H", "I": "I", "J": "J", "K": "K",
    "L": "L", "M": "M", "N": "N", "O": "O", "P": "P", "Q": "Q", "R": "R", "S": "S", "T": "T", "U": "U",
    "V": "V", "W": "W",
})
ABOLISHED_EXEMPTIONS = ("A", "C")

PREMIUMS = CodeList("premium code", {"LTE": "long_term_empty", "SHP": "second_home"})

PAYMENT_METHODS = CodeList("payment method code", {
    "DD": "direct_debit", "SO": "standing_order", "BT": "bank_transfer", "IB": "bank_transfer", "DC": "card",
    "CC": "card", "CA": "cash", "CQ": "cheque", "PO": "post_office", "PP": "paypoint",
})

TRANSACTION_TYPES = CodeList("transaction type", {"RCP": "payment", "RFD": "refund", "RVS": "reversal"})

EXEMPT_FLAGS = {"Y": True, "N": False}


def to_canonical(codes: CodeList, code: str, name: str, kept: dict[str, str]) -> str:
    """Translate a code; when it is not the one written for its value, keep it under ``name``."""
    value = codes.to_canonical(code)
    if codes.to_native(value) != code:
        kept[name] = code
    return value


def to_native(codes: CodeList, value: str, name: str, kept: dict[str, str]) -> str:
    """The code for a value: the one kept under ``name`` when it means the same value, else the first."""
    code = kept.get(name)
    if code:
        try:
            if codes.to_canonical(code) == value:
                return code
        except RecordError:
            pass
    return codes.to_native(value)


def exemption(code: str, kept: dict[str, str]) -> str:
    if code in ABOLISHED_EXEMPTIONS:
        raise RecordError(f"exemption code {code!r}: class {code} was abolished on 1 April 2013 (it became a "
                          f"discount the council sets); record the discount instead")
    return to_canonical(EXEMPTIONS, code, "exemption_class", kept)
