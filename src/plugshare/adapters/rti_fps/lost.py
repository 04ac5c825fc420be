"""What writing loses: each Employee written is read back in memory and compared with the messages it came from.

The comparison is :func:`plugshare.adapters.loss.not_restored`. An Employee
that would not read back at all is a :class:`RecordError`, so that nothing
this adapter could not read again is ever written.
"""

from __future__ import annotations

from typing import Any

import defusedxml.ElementTree as SafeET

from plugshare.adapters.contract import RecordError
from plugshare.adapters.rti_fps.document import Node, lines
from plugshare.adapters.rti_fps.employee import read_employee
from plugshare.adapters.rti_fps.reader import Submission


def read_back(employee: Node, submission: Submission, council: str) -> dict[str, dict[str, Any]]:
    """The records an Employee element gives when read, by message type."""
    root = Node(employee.name, employee.text, employee.children, {"xmlns": submission.namespace})
    element = SafeET.fromstring("\n".join(lines(root)), forbid_dtd=True)
    try:
        return dict(read_employee(element, submission, council))
    except RecordError as exc:
        raise RecordError(f"what would be written does not read back as an FPS Employee ({exc.reason})") from None
