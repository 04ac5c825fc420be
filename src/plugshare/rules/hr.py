"""HR rules: service dates, terminations, the establishment tree, absence evidence."""

from __future__ import annotations

from plugshare import refdata
from plugshare.calculations import financial_year_of
from plugshare.rules.base import StreamRule, Violation, rule, stream_rule
from plugshare.rules.common import as_date


@rule("PS-HR-001", "continuous-service-not-after-start", "MUST",
      "An employment's continuous_service_date MUST NOT be after its start_date.", "hr.employment")
def continuous_service(message):
    data = message["data"]
    if data["continuous_service_date"] > data["start_date"]:
        yield Violation("/data/continuous_service_date",
                        f"continuous service from {data['continuous_service_date']} starts after the "
                        f"employment itself ({data['start_date']})")


@rule("PS-HR-002", "termination-complete", "MUST",
      "A terminated employment MUST have an end_date and a termination_reason; an employment that is "
      "not terminated MUST NOT have a termination_reason.", "hr.employment")
def termination_complete(message):
    data = message["data"]
    if data["status"] == "terminated":
        for name in ("end_date", "termination_reason"):
            if name not in data:
                yield Violation(f"/data/{name}", f"a terminated employment needs {name}")
    elif "termination_reason" in data:
        yield Violation("/data/termination_reason", f"the employment is {data['status']}, not terminated")


@rule("PS-HR-003", "assignments-within-employment", "MUST",
      "Every assignment MUST start on or after its employment's start_date and, when the employment has "
      "ended, end on or before its end_date.", "hr.employment")
def assignments_within(message):
    data = message["data"]
    for index, assignment in enumerate(data["assignments"]):
        if assignment["start_date"] < data["start_date"]:
            yield Violation(f"/data/assignments/{index}/start_date",
                            f"the assignment starts {assignment['start_date']}, before the employment "
                            f"({data['start_date']})")
        if "end_date" in data and assignment.get("end_date", "9999-12-31") > data["end_date"]:
            yield Violation(f"/data/assignments/{index}/end_date",
                            f"the assignment runs past the end of the employment ({data['end_date']})")


def _spine_points(grade: dict, pointer: str, year: str):
    if grade.get("pay_scale") != "njc" or "spinal_column_point" not in grade:
        return
    spine = refdata.pay_spine("njc", year)
    point = grade["spinal_column_point"]
    if spine is None:
        yield Violation(pointer, f"no NJC pay spine for {year} in the reference data; SCP {point} not checked",
                        level="SHOULD")
    elif not spine["lowest"] <= point <= spine["highest"]:
        yield Violation(pointer, f"SCP {point} is not on the NJC pay spine for {year} "
                                 f"({spine['lowest']} to {spine['highest']})")


@rule("PS-HR-004", "njc-spine-point", "SHOULD",
      "A grade on the NJC pay scale SHOULD give a spinal column point in use on the NJC pay spine "
      "in the financial year of the message's time.", "hr.employment", "hr.position")
def njc_spine_point(message):
    data = message["data"]
    year = financial_year_of(as_date(message["time"][:10]))
    if message["type"].endswith("hr.position"):
        if "grade" in data:
            yield from _spine_points(data["grade"], "/data/grade/spinal_column_point", year)
        return
    for index, assignment in enumerate(data["assignments"]):
        if "grade" in assignment:
            yield from _spine_points(assignment["grade"], f"/data/assignments/{index}/grade/spinal_column_point",
                                     year)


@rule("PS-HR-005", "org-unit-not-own-parent", "MUST",
      "An org unit MUST NOT be its own parent.", "hr.org-unit")
def not_own_parent(message):
    data = message["data"]
    if data.get("parent_id") == data["id"]:
        yield Violation("/data/parent_id", "the org unit names itself as its parent")


@stream_rule
class OrgTreeHasNoCycles(StreamRule):
    id = "PS-HR-006"
    name = "org-tree-acyclic"
    level = "MUST"
    text = ("The org units of a council MUST form a tree: following parent_id from any unit MUST NOT "
            "lead back to it.")
    message_types = ("hr.org-unit",)

    def __init__(self) -> None:
        self.parents: dict[tuple[str, str], str] = {}
        self.where: dict[tuple[str, str], object] = {}

    def observe(self, message_type, message, where):
        data = message.get("data")
        if message_type in self.message_types and data and "parent_id" in data:
            key = (message["council"], data["id"])
            self.parents[key] = data["parent_id"]
            self.where[key] = where

    def finish(self):
        reported: set[tuple[str, str]] = set()
        for start in self.parents:
            council, seen, node = start[0], [], start
            while node in self.parents and node not in seen:
                seen.append(node)
                node = (council, self.parents[node])
            if node == start and start not in reported:
                reported.update(seen)
                path = " -> ".join(unit for _, unit in seen + [start])
                yield self.where[start], Violation("/data/parent_id", f"the org units form a cycle: {path}")


@rule("PS-HR-007", "fit-note-only-for-sickness", "MUST",
      "An absence other than sickness MUST NOT carry a fit note.", "hr.absence")
def fit_note_only_for_sickness(message):
    data = message["data"]
    if "fit_note" in data and data["absence_type"] != "sickness":
        yield Violation("/data/fit_note", f"a {data['absence_type']} absence cannot carry a fit note")


@rule("PS-HR-008", "long-sickness-has-fit-note", "SHOULD",
      "A sickness absence of more than seven calendar days SHOULD carry a fit note (evidence is due from "
      "the eighth day).", "hr.absence")
def long_sickness_fit_note(message):
    data = message["data"]
    if data["absence_type"] == "sickness" and "end_date" in data and "fit_note" not in data:
        days = (as_date(data["end_date"]) - as_date(data["start_date"])).days + 1
        if days > 7:
            yield Violation("/data/fit_note", f"{days} calendar days of sickness without a fit note")


@rule("PS-HR-009", "birth-date-in-past", "MUST",
      "A person's birth_date MUST be before the time of the message.", "hr.person")
def birth_date_in_past(message):
    data = message["data"]
    if "birth_date" in data and data["birth_date"] >= message["time"][:10]:
        yield Violation("/data/birth_date", "the birth date is not in the past (value withheld: personal data)")
