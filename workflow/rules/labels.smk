rule labels:
    input:
        coordinates=COORDINATE_FILES,
        meta=preprocessed(LABELED, "json"),
        code=package("coordinates", "relion", "cryosparc"),
    output:
        "results/labels/labels.csv",
    log:
        "logs/labels.log",
    conda:
        "../../envs/pickflow.yaml"
    params:
        labels=pickflow_config.label_params(config),
    script:
        "../../scripts/labels.py"


rule split:
    input:
        labels="results/labels/labels.csv",
        code=package("split"),
    output:
        "results/split/split.json",
    log:
        "logs/split.log",
    conda:
        "../../envs/pickflow.yaml"
    params:
        split=config["split"],
    script:
        "../../scripts/split.py"
