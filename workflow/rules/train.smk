rule train:
    input:
        micrographs=preprocessed(LABELED),
        labels="results/labels/labels.csv",
        split="results/split/split.json",
        cv_best=cv_best,
        init=init_model,
        code=TRAINING_CODE,
    output:
        model="results/train/model.pt",
        last="results/train/last.pt",
        metrics="results/train/metrics.csv",
        summary="results/train/summary.json",
    log:
        "logs/train.log",
    conda:
        "../../envs/pickflow.yaml"
    threads: config["train"]["threads"]
    params:
        train=final_train_params(),
        device=config["train"]["device"],
    script:
        "../../scripts/train.py"
