# pickflow: supervised positive-unlabeled particle picking for cryo-EM micrographs.
# Stages: preprocess -> labels -> split -> train -> score -> threshold -> picks -> plots.
from snakemake.utils import min_version

from pickflow.workflow import config as pickflow_config

min_version("9.19")

# A YAML syntax error names the file and line; each schema violation is one line naming its key.
pickflow_config.checked(pickflow_config.check_config_file, "config.yaml")


configfile: "config.yaml"


pickflow_config.checked(pickflow_config.check_schema, config)


report: "workflow/report/workflow.rst"


include: "workflow/rules/common.smk"
include: "workflow/rules/preprocess.smk"
include: "workflow/rules/labels.smk"
include: "workflow/rules/train.smk"
include: "workflow/rules/cv.smk"
include: "workflow/rules/pick.smk"
include: "workflow/rules/report.smk"


rule all:
    default_target: True
    input:
        final_outputs(),
