# For pyright: Snakemake runs each script with a global `snakemake` (the job: input, output, params, ...).
from typing import Any

snakemake: Any
