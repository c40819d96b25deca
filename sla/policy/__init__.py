"""Policy files (pure core): the file model (``model``), parsing text with
source positions (``source``), problem messages (``messages``), the calendar
section's checks (``check_calendar``), compiling into a
:class:`~sla.policy.compile.PolicySet` (``compile``), the JSON Schema
(``schema``) and the validate summary (``summary``).  Reading a policy file
from disk is :mod:`sla.io.policy_files`."""
