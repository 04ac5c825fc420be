"""Accounts: who is liable, for what period, with which discounts, exemption and premium."""

from __future__ import annotations

from typing import Any

from plugshare.adapters.contract import RecordError
from plugshare.adapters.ctax_fixed import codes as C
from plugshare.adapters.ctax_fixed import layout as L
from plugshare.adapters.ctax_fixed.base import KEY, NAMESPACE, MapperBase, percent_digits, percent_text, title


class AccountMapping(MapperBase):
    """ACC records <-> revenues.council-tax-account."""

    def account(self, row: dict) -> dict[str, Any]:
        reference = self.reference(row, "account_reference", L.ACCOUNT)
        property_reference = self.reference(row, "property_reference", L.ACCOUNT)
        kept: dict[str, str] = {}
        start = self.required(row, "liability_start", L.ACCOUNT)
        end = row["liability_end"]
        parties = [self._party(row, n, start, end) for n in (1, 2)]
        if parties[0] is None:
            raise RecordError(f"party 1 (positions {L.field(L.ACCOUNT, 'party_1_role').start}-"
                              f"{L.field(L.ACCOUNT, 'party_1_surname').end}) is blank; an account has at least one "
                              f"liable party")
        record: dict[str, Any] = {
            "id": self.ident("account", reference), "source_ids": [{"scheme": KEY, "value": reference}],
            "extensions": {}, "account_reference": reference,
            "property_id": self.ident("property", property_reference),
            "status": self.code(C.ACCOUNT_STATUSES, row, "status", L.ACCOUNT),
            "liability": {"start": start, **({"end": end} if end else {})},
            "liable_parties": [p for p in parties if p is not None],
            "discounts": self._discounts(row, kept),
        }
        exemption = self._exemption(row, kept)
        if exemption:
            record["exemption"] = exemption
        premium = self._premium(row)
        if premium:
            record["premium"] = premium
        if row["payment_method"]:
            record["payment_method"] = self.code(C.PAYMENT_METHODS, row, "payment_method", L.ACCOUNT, kept)
        if int(row["instalments_requested"]):
            record["instalments_requested"] = int(row["instalments_requested"])
        record["extensions"] = {NAMESPACE: kept} if kept else {}
        return record

    def _party(self, row: dict, n: int, start: str, end: str | None) -> dict[str, Any] | None:
        names = {part: row[f"party_{n}_{part}"] for part in
                 ("role", "kind", "title", "forename", "middle_names", "surname")}
        if all(value is None for value in names.values()):
            return None
        where = f"party {n}"
        role = self.code(C.ROLES, row, f"party_{n}_role", L.ACCOUNT)
        if names["kind"] == "P":
            if names["forename"] is None or names["surname"] is None:
                raise RecordError(f"{where} is a person (kind P) but has no "
                                  f"{'forename' if names['forename'] is None else 'surname'}; both are required")
            name = {"given_name": names["forename"], "family_name": names["surname"]}
            if names["title"]:
                name = {"title": names["title"], **name}
            if names["middle_names"]:
                name["middle_names"] = names["middle_names"]
            party: dict[str, Any] = {"name": name}
        elif names["kind"] == "O":
            if names["title"] or names["forename"] or names["middle_names"] or names["surname"] is None:
                raise RecordError(f"{where} is an organisation (kind O): its name goes in the surname field and the "
                                  f"title, forename and middle names are blank")
            party = {"organisation_name": names["surname"]}
        else:
            kind = "blank" if names["kind"] is None else repr(names["kind"])
            raise RecordError(f"{title(L.ACCOUNT, f'party_{n}_kind')} is {kind}; it is P (a person) or O "
                              f"(an organisation)")
        liable = {"party": party, "role": role, "liable_from": start}
        if end:
            liable["liable_to"] = end
        return liable

    def _discounts(self, row: dict, kept: dict[str, str]) -> list[dict[str, Any]]:
        discounts = []
        for n in (1, 2):
            code, percent, start, end = (row[f"discount_{n}_{part}"] for part in ("code", "percent", "start", "end"))
            if code is None:
                if int(percent) or start or end:
                    raise RecordError(f"discount {n} has a percent or dates but no code")
                continue
            if n == 2 and not discounts:
                raise RecordError("discount 2 is given but discount 1 is blank; the slots are filled in order")
            if start is None:
                raise RecordError(f"{title(L.ACCOUNT, f'discount_{n}_start')} is blank; a discount has a start")
            discount = {"discount_type": self.code(C.DISCOUNTS, row, f"discount_{n}_code", L.ACCOUNT, kept),
                        "percent": percent_text(percent), "period": {"start": start, **({"end": end} if end else {})}}
            discounts.append(discount)
        return discounts

    def _exemption(self, row: dict, kept: dict[str, str]) -> dict[str, Any] | None:
        start, end = row["exemption_start"], row["exemption_end"]
        if row["exemption_class"] is None:
            if start or end:
                raise RecordError(f"exemption dates are given without an {title(L.ACCOUNT, 'exemption_class')}")
            return None
        if start is None:
            raise RecordError(f"{title(L.ACCOUNT, 'exemption_start')} is blank; an exemption has a start")
        return {"exemption_class": self.code(C.EXEMPTIONS, row, "exemption_class", L.ACCOUNT, kept),
                "period": {"start": start, **({"end": end} if end else {})}}

    def _premium(self, row: dict) -> dict[str, Any] | None:
        start, end, empty = row["premium_start"], row["premium_end"], row["empty_since"]
        if row["premium_code"] is None:
            if int(row["premium_percent"]) or start or end or empty:
                raise RecordError(f"premium figures are given without a {title(L.ACCOUNT, 'premium_code')}")
            return None
        if start is None:
            raise RecordError(f"{title(L.ACCOUNT, 'premium_start')} is blank; a premium has a start")
        premium: dict[str, Any] = {"premium_type": self.code(C.PREMIUMS, row, "premium_code", L.ACCOUNT),
                                   "percent": percent_text(row["premium_percent"]),
                                   "period": {"start": start, **({"end": end} if end else {})}}
        if empty:
            premium["empty_since"] = empty
        return premium

    def account_row(self, data: dict) -> dict[str, Any]:
        kept = self.restore(data, "ACC")
        reference = self.key("account", data["id"], "the account's id")
        if data["account_reference"] != reference:
            raise RecordError(f"account_reference {data['account_reference']!r} differs from the reference in the "
                              f"account's id ({reference!r}); the extract knows an account by one reference")
        liability = data["liability"]
        row: dict[str, Any] = {
            "record_type": "ACC", "account_reference": reference,
            "property_reference": self.key("property", data["property_id"], "property_id"),
            "status": C.ACCOUNT_STATUSES.to_native(data["status"]), "liability_start": liability["start"],
            "liability_end": liability.get("end"),
        }
        parties = data["liable_parties"]
        if len(parties) > 2:
            raise RecordError(f"the account has {len(parties)} liable parties; the extract holds two (the rest are "
                              f"held on the legacy system's party screens)")
        for n, liable in enumerate(parties, start=1):
            if liable["liable_from"] != liability["start"] or liable.get("liable_to") != liability.get("end"):
                raise RecordError(f"liable party {n} is liable from {liable['liable_from']} to "
                                  f"{liable.get('liable_to', 'open')}, not the account's liability period; the "
                                  f"extract holds one liability period for all its parties")
            row.update(self._party_row(n, liable))
        discounts = data.get("discounts", [])
        if len(discounts) > 2:
            raise RecordError(f"the account has {len(discounts)} discounts; the extract holds two")
        for n, discount in enumerate(discounts, start=1):
            row.update({f"discount_{n}_code": C.to_native(C.DISCOUNTS, discount["discount_type"],
                                                          f"discount_{n}_code", kept),
                        f"discount_{n}_percent": percent_digits(discount["percent"], f"discount {n}"),
                        f"discount_{n}_start": discount["period"]["start"],
                        f"discount_{n}_end": discount["period"].get("end")})
        if data.get("exemption"):
            exemption = data["exemption"]
            row.update(exemption_class=C.to_native(C.EXEMPTIONS, exemption["exemption_class"], "exemption_class",
                                                   kept),
                       exemption_start=exemption["period"]["start"], exemption_end=exemption["period"].get("end"))
        if data.get("premium"):
            premium = data["premium"]
            row.update(premium_code=C.PREMIUMS.to_native(premium["premium_type"]),
                       premium_percent=percent_digits(premium["percent"], "the premium"),
                       premium_start=premium["period"]["start"], premium_end=premium["period"].get("end"),
                       empty_since=premium.get("empty_since"))
        if data.get("payment_method"):
            row["payment_method"] = C.to_native(C.PAYMENT_METHODS, data["payment_method"], "payment_method", kept)
        row["instalments_requested"] = str(data.get("instalments_requested", ""))  # absent: 00, not recorded
        return row

    @staticmethod
    def _party_row(n: int, liable: dict) -> dict[str, Any]:
        party = liable["party"]
        row = {f"party_{n}_role": C.ROLES.to_native(liable["role"])}
        if "organisation_name" in party:
            return {**row, f"party_{n}_kind": "O", f"party_{n}_surname": party["organisation_name"]}
        name = party["name"]
        return {**row, f"party_{n}_kind": "P", f"party_{n}_title": name.get("title"),
                f"party_{n}_forename": name["given_name"], f"party_{n}_middle_names": name.get("middle_names"),
                f"party_{n}_surname": name["family_name"]}
