"""Policy files (pure core): the file model, parsing with source positions,
compiling into a :class:`~sla.policy.compile.PolicySet`, the validate summary."""
