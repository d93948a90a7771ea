"""The report stage (``workflow/rules/report.smk``): the figures, the training diagnostics and the provenance of a run.
Modules: ``plots`` (the figures of a run, drawn with matplotlib), ``diagnostics`` (training diagnostics from the
per-epoch metrics), ``provenance`` (what produced a result: package versions, git commit, hardware, date)."""
