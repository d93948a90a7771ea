rule train:
    input:
        micrographs=preprocessed(LABELED),
        labels="results/labels/labels.csv",
        split="results/split/split.json",
        code=package("training", "models", "losses", "sampling", "prior", "evaluation", "extract", "scoring"),
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
        train=pickflow_config.train_params(config),
        device=config["train"]["device"],
    script:
        "../../scripts/train.py"
