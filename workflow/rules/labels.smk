rule labels:
    input:
        coordinates=COORDINATE_FILES,
        meta=preprocessed(LABELED),
    output:
        "results/labels/labels.csv",
    log:
        "logs/labels.log",
    conda:
        "../../envs/pickflow.yaml"
    params:
        labels=pickflow_config.label_params(config),
        code=script_code("labels"),
    script:
        "../../scripts/labels.py"


rule split:
    input:
        labels="results/labels/labels.csv",
    output:
        "results/split/split.json",
    log:
        "logs/split.log",
    conda:
        "../../envs/pickflow.yaml"
    params:
        split=pickflow_config.split_params(config),
        code=script_code("split"),
    script:
        "../../scripts/split.py"
