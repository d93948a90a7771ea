"""pickflow's benchmarks: measurements of the library and the workflow, not a second product.

Run each from the repository root as a module, e.g. ``python -m benchmarks.side_by_side --help``. They reuse the
library (``pickflow.*``), the workflow runner and config writer of the tests (``tests/workflow/helpers.py``) and
the data sets of ``benchmarks.common``; their results are committed under ``benchmarks/results/`` and the README
tables are generated from those by ``python -m benchmarks.tables``. See benchmarks/README.md.
"""
