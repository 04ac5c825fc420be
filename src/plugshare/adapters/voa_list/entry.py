"""One list entry and its revenues.business-rates-hereditament record, both ways.

Reading parses the 28 field values into a record; writing lays a record out
as 28 values and reads them back, so that nothing is written that the list
would read differently. The loss rule: where the list wrote a value in
another form than this adapter writes it (spaces around a name, leading
zeros, a lower-case postcode, a blank effective date), the form read is kept
in the record's extensions and written again while it still reads as the
record's value.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from plugshare.adapters.contract import RecordError
from plugshare.adapters.voa_list.layout import BY_NAME, FIELDS, NAMES, check_text, format_date, parse_date
from plugshare.identifiers import is_postcode, normalise_postcode
from plugshare.models.revenues import BusinessRatesHereditament

HEREDITAMENT = "revenues.business-rates-hereditament"
#: the list's text fields and where each goes in the record (``address.x`` inside the VOA address)
TEXT_FIELDS = {
    "ndr_community_code": "ndr_community_code", "ba_reference": "ba_reference",
    "primary_description_text": "description", "full_property_identifier": "full_property_identifier",
    "firm_name": "firm_name", "number_or_name": "address.number_or_name", "street": "address.street",
    "town": "address.town", "postal_district": "address.postal_district", "county": "address.county",
    "appeal_settlement_code": "appeal_settlement_code", "sub_street_level_3": "sub_street_level_3",
    "sub_street_level_2": "sub_street_level_2", "sub_street_level_1": "sub_street_level_1",
    "case_number": "case_number",
}
DATE_FIELDS = {"effective_date": "effective_date", "list_alteration_date": "list_alteration_date",
               "current_from_date": "current_from", "current_to_date": "current_to"}
DESCRIPTION_CODE = re.compile(r"[A-Z0-9]{1,5}")
SCAT = re.compile(r"([0-9]{3})([A-Z]?)")
#: the record's fields in the standard's order, so that records read alike are written alike
ORDER = tuple(BusinessRatesHereditament.model_fields)
#: record fields that the list does not carry: the record's own ids and extensions, and the UPRN
NOT_CARRIED = ("id", "source_ids", "extensions", "uprn")


def list_start(rating_list: str) -> str:
    """The day a rating list comes into force: 1 April of its year."""
    return f"{rating_list}-04-01"


def to_record(values: Sequence[str], council: str, rating_list: str) -> dict[str, Any]:
    """The 28 values of one entry (as text) -> the canonical record, without extensions."""
    row = {}
    for field, value in zip(FIELDS, values, strict=True):
        text = check_text(value, field).strip()
        if field.required and not text:
            raise RecordError(f"{field.label} is blank; every list entry has one")
        if field.kind == "digits" and text and not text.isdigit():
            example = " in whole pounds, e.g. 12500" if field.name == "rateable_value" else ""
            raise RecordError(f"{field.label}: {text!r} is not a whole number (digits only{example})")
        row[field.name] = text
    if len(row["billing_authority_code"]) != 4:
        raise RecordError(f"{BY_NAME['billing_authority_code'].label}: {row['billing_authority_code']!r} is not the "
                          f"4-digit code the VOA gives each billing authority")
    uarn = int(row["uarn"])
    if uarn < 1:
        raise RecordError(f"{BY_NAME['uarn'].label} is 0; a UARN is 1 or more")
    record: dict[str, Any] = {"id": f"{council}-voa-{row['assessment_reference']}",
                              "source_ids": [{"scheme": "voa-uarn", "value": str(uarn)}], "extensions": {},
                              "uarn": uarn, "rating_list": rating_list}
    if row["entry_number"]:
        record["list_entry_number"] = int(row["entry_number"])
        if record["list_entry_number"] < 1:
            raise RecordError(f"{BY_NAME['entry_number'].label} is 0; entries are numbered from 1")
    record["billing_authority_code"] = row["billing_authority_code"]
    if not DESCRIPTION_CODE.fullmatch(row["primary_description_code"]):
        raise RecordError(f"{BY_NAME['primary_description_code'].label}: {row['primary_description_code']!r} is not "
                          f"a VOA description code (1 to 5 capital letters and digits, e.g. CS or IF3)")
    record["primary_description_code"] = row["primary_description_code"]
    record["address"] = {}
    for name, path in TEXT_FIELDS.items():
        if row[name]:
            _put(record, path, row[name])
    if row["postcode"]:
        postcode = normalise_postcode(row["postcode"])
        if not is_postcode(postcode):
            raise RecordError(f"{BY_NAME['postcode'].label}: {row['postcode']!r} is not a UK postcode such as "
                              f"PE20 9NF")
        record["address"]["postcode"] = postcode
    for name, path in DATE_FIELDS.items():
        day = parse_date(row[name], BY_NAME[name])
        if day:
            record[path] = day
    record.setdefault("effective_date", list_start(rating_list))  # a compiled entry takes effect with the list
    composite = row["composite_indicator"]
    if composite not in ("", "C"):
        raise RecordError(f"{BY_NAME['composite_indicator'].label}: {composite!r} is not 'C' (part domestic, part "
                          f"non-domestic) or blank")
    record["composite"] = composite == "C"
    record["rateable_value"] = int(row["rateable_value"])
    record["assessment_reference"] = row["assessment_reference"]
    if row["scat_code_and_suffix"]:
        match = SCAT.fullmatch(row["scat_code_and_suffix"])
        if not match:
            raise RecordError(f"{BY_NAME['scat_code_and_suffix'].label}: {row['scat_code_and_suffix']!r} is not a "
                              f"SCAT code (three digits and an optional capital letter, e.g. 249G)")
        record["scat_code"] = match.group(1)
        if match.group(2):
            record["scat_suffix"] = match.group(2)
    return {key: record[key] for key in ORDER if key in record}


def to_values(record: Mapping[str, Any]) -> list[str]:
    """The canonical record -> its 28 values as this adapter writes them (checked for characters and widths)."""
    address = record.get("address") or {}
    values = {name: _text(_get(record, path)) for name, path in TEXT_FIELDS.items()}
    entry = record.get("list_entry_number")
    values.update({
        "entry_number": "" if entry is None else str(entry),
        "billing_authority_code": _text(record["billing_authority_code"]),
        "primary_description_code": _text(record["primary_description_code"]),
        "uarn": str(record["uarn"]),
        "postcode": _postcode(address.get("postcode")),
        "composite_indicator": "C" if record.get("composite") else "",
        "rateable_value": str(record["rateable_value"]),
        "assessment_reference": _text(record["assessment_reference"]),
        "scat_code_and_suffix": _text(record.get("scat_code")) + _text(record.get("scat_suffix")),
    })
    values.update({name: format_date(record.get(path)) for name, path in DATE_FIELDS.items()})
    return [check_text(values[field.name], field) for field in FIELDS]


def kept_forms(values: Sequence[str], record: Mapping[str, Any]) -> dict[str, str]:
    """The values the list wrote in another form than this adapter would write them, by field name."""
    written = to_values(record)
    return {name: read for name, read, ours in zip(NAMES, values, written, strict=True) if read != ours}


def writable(record: Mapping[str, Any], council: str, kept: Mapping[str, Any]) -> list[str]:
    """The 28 values for a record, checked by reading them back; kept forms restored where they read the same."""
    values = to_values(record)
    expected = carried(record)
    again = carried(to_record(values, council, record["rating_list"]))
    differing = [key for key in sorted(set(expected) | set(again)) if expected.get(key) != again.get(key)]
    if differing:
        raise RecordError(f"the entry would not read back as the record ({', '.join(differing)} would differ); "
                          f"correct the record")
    for name, text in kept.items():
        field = BY_NAME.get(name)
        if field is None or not isinstance(text, str) or values[field.number - 1] == text:
            continue
        trial = list(values)
        trial[field.number - 1] = text
        try:
            same = carried(to_record(trial, council, record["rating_list"])) == expected
        except RecordError:
            same = False
        if same:
            values = trial
    return values


def carried(record: Mapping[str, Any]) -> dict[str, Any]:
    """What the list carries of a record, as it reads it: text trimmed, empty values absent, the postcode
    normalised."""
    result = {key: value for key, value in record.items() if key not in NOT_CARRIED}
    result["composite"] = bool(result.get("composite", False))
    address = {key: _text(value) for key, value in (result.get("address") or {}).items() if _text(value)}
    if "postcode" in address:
        address["postcode"] = normalise_postcode(address["postcode"])
    result["address"] = address
    for key, value in list(result.items()):  # an empty value is an absent one
        if value is None or isinstance(value, str):
            result[key] = _text(value)
            if not result[key]:
                del result[key]
    return result


def which(values: Sequence[str]) -> str:
    """How a person finds an entry: its BA reference and UARN, where they can be read."""
    ba_reference, uarn = values[BY_NAME["ba_reference"].number - 1], values[BY_NAME["uarn"].number - 1]
    named = [f"BA reference {ba_reference.strip()}" if ba_reference.strip() else "",
             f"UARN {uarn.strip()}" if uarn.strip() else ""]
    return ", ".join(part for part in named if part)


def _postcode(value: Any) -> str:
    """A postcode normalised; one that is not a postcode as given, for reading back to name it."""
    normalised = normalise_postcode(_text(value))
    return normalised if is_postcode(normalised) else _text(value)


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _get(record: Mapping[str, Any], path: str) -> Any:
    node: Any = record
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _put(record: dict[str, Any], path: str, value: str) -> None:
    if path.startswith("address."):
        record["address"][path.removeprefix("address.")] = value
    else:
        record[path] = value

