"""Drivers for cluster engines (optional extras); all run :class:`sla.adapters.kernel.ArrowKernel`."""
