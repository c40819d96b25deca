"""Reports: figures and the mergeable ``ReportBuilder`` (pure core), and their
output formats (text, CSV, JSON, the HTML page)."""
