rule folds:
    input:
        labels="results/labels/labels.csv",
        split="results/split/split.json",
    output:
        "results/cv/folds.json",
    log:
        "logs/cv/folds.log",
    localrule: True
    conda:
        "../../envs/pickflow.yaml"
    params:
        folds=pickflow_config.folds_params(config),
        code=script_code("folds"),
    script:
        "../../scripts/folds.py"


rule cv_train:
    input:
        preprocessed=preprocessed(LABELED),
        labels="results/labels/labels.csv",
        split="results/cv/folds.json",
        init=init_model,
    output:
        metrics="results/cv/{value}/fold{fold}/metrics.csv",
        summary="results/cv/{value}/fold{fold}/summary.json",
    log:
        "logs/cv/{value}/fold{fold}.log",
    conda:
        "../../envs/pickflow.yaml"
    threads: config["train"]["threads"]
    resources:
        **gpu_job_resources(config["train"]["device"], minutes=240),
    params:
        train=cv_fold_params,
        micrographs=preprocessed(LABELED, "mrc"),
        device=config["train"]["device"],
        code=script_code("train"),
    script:
        "../../scripts/train.py"


rule cv_aggregate:
    input:
        metrics=cv_fold_metrics,
    output:
        table="results/cv/aggregate.csv",
        best="results/cv/best.json",
    log:
        "logs/cv/aggregate.log",
    localrule: True
    conda:
        "../../envs/pickflow.yaml"
    params:
        cv=pickflow_config.cv_params(config),
        code=script_code("cv_aggregate"),
    script:
        "../../scripts/cv_aggregate.py"
