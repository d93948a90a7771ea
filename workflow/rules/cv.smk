rule folds:
    input:
        labels="results/labels/labels.csv",
        split="results/split/split.json",
        code=package("crossval"),
    output:
        "results/cv/folds.json",
    log:
        "logs/cv/folds.log",
    localrule: True
    conda:
        "../../envs/pickflow.yaml"
    params:
        folds={"folds": config["cv"]["folds"], "seed": config["cv"]["seed"]},
    script:
        "../../scripts/folds.py"


rule cv_train:
    input:
        micrographs=preprocessed(LABELED),
        labels="results/labels/labels.csv",
        split="results/cv/folds.json",
        init=init_model,
        code=TRAINING_CODE,
    output:
        metrics="results/cv/{value}/fold{fold}/metrics.csv",
        summary="results/cv/{value}/fold{fold}/summary.json",
    log:
        "logs/cv/{value}/fold{fold}.log",
    conda:
        "../../envs/pickflow.yaml"
    threads: config["train"]["threads"]
    params:
        train=cv_fold_params,
        device=config["train"]["device"],
    script:
        "../../scripts/train.py"


rule cv_aggregate:
    input:
        metrics=cv_fold_metrics,
        code=package("crossval"),
    output:
        table="results/cv/aggregate.csv",
        best="results/cv/best.json",
    log:
        "logs/cv/aggregate.log",
    localrule: True
    conda:
        "../../envs/pickflow.yaml"
    params:
        cv=config["cv"],
    script:
        "../../scripts/cv_aggregate.py"
