rule score:
    input:
        model="results/train/model.pt",
        micrographs=batch_micrographs,
        meta=batch_metadata,
        code=package("scoring", "extract", "models"),
    output:
        candidates="results/pick/candidates/{batch}.csv",
        normalization="results/pick/normalization/{batch}.json",
    log:
        "logs/score/{batch}.log",
    wildcard_constraints:
        batch="h[01]*",
    conda:
        "../../envs/pickflow.yaml"
    threads: config["pick"]["threads"]
    params:
        pick=pickflow_config.pick_params(config),
        device=config["pick"]["device"],
    script:
        "../../scripts/score.py"


rule threshold:
    input:
        candidates=all_candidates,
        labels="results/labels/labels.csv",
        split="results/split/split.json",
        code=package("evaluation", "threshold"),
    output:
        threshold="results/pick/threshold.json",
        curve="results/pick/pr_curve.csv",
    log:
        "logs/threshold.log",
    localrule: True
    conda:
        "../../envs/pickflow.yaml"
    params:
        threshold=pickflow_config.threshold_params(config),
    script:
        "../../scripts/threshold.py"


checkpoint picks:
    input:
        candidates=all_candidates,
        threshold="results/pick/threshold.json",
        code=package("coordinates", "overview"),
    output:
        star="results/picks/particles.star",
        csv="results/picks/particles.csv",
        topaz="results/picks/particles_topaz.txt",
        per_micrograph=directory("results/picks/micrographs"),
        summary="results/picks/summary.json",
    log:
        "logs/picks.log",
    conda:
        "../../envs/pickflow.yaml"
    params:
        box_size=pickflow_config.box_size(config),
        micrographs=sorted(MICROGRAPHS),
    script:
        "../../scripts/picks.py"
