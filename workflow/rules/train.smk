rule train:
    input:
        preprocessed=preprocessed(LABELED),
        labels="results/labels/labels.csv",
        split="results/split/split.json",
        cv_best=cv_best,
        init=init_model,
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
    resources:
        **gpu_job_resources(config["train"]["device"], minutes=240),
    params:
        train=final_train_params(),
        micrographs=preprocessed(LABELED, "mrc"),
        device=config["train"]["device"],
        code=script_code("train"),
    script:
        "../../scripts/train.py"
