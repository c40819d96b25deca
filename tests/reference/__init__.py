"""A deliberately simple, slow reference of ``sla evaluate --format jsonl``,
written from SEMANTICS.md alone (it imports nothing from ``sla``)."""

from .refengine import evaluate, evaluate_files

__all__ = ["evaluate", "evaluate_files"]
