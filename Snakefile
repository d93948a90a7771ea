# pickflow: supervised positive-unlabeled particle picking for cryo-EM micrographs.
# Stages: preprocess -> labels -> split -> train -> score -> threshold -> picks -> plots.
from snakemake.utils import min_version, validate

min_version("9.19")


configfile: "config.yaml"


validate(config, "workflow/schemas/config.schema.yaml")


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
