"""Snakemake rule ``preprocess``: one micrograph to its preprocessed JSON record and MRC (pickflow.preprocess.preprocessed).

The rule runs it as a command line, ``preprocess.py MICROGRAPH OUT_JSON LOG SETTINGS IDENTITY`` (SETTINGS: the
preprocessing settings as JSON; see the rule for why). By hand: ``pickflow preprocess``."""

import json
import sys

from pickflow.preprocess.preprocessed import write_preprocessed
from pickflow.steps import configure_logging, report_errors

micrograph, out_json, log_file, settings, identity = sys.argv[1:]
configure_logging(log_file)
report_errors(
    write_preprocessed, micrograph=micrograph, out_json=out_json, params=json.loads(settings), identity=identity
)
