"""The I/O shell: event sources (JSONL, CSV, Parquet), row writers, and the file pipeline (streaming, sorting, spilling, parallel jobs)."""
