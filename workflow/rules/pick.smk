rule score:
    input:
        model=PICKING_MODEL,
        micrographs=batch_micrographs,
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
    resources:
        **gpu_job_resources(config["pick"]["device"], minutes=120),
    params:
        pick=pickflow_config.pick_params(config),
        device=config["pick"]["device"],
        code=script_code("score"),
    script:
        "../../scripts/score.py"


rule merge_scores:
    input:
        candidates=group_candidates,
        normalization=group_normalization,
    output:
        candidates="results/pick/merged/candidates/{group}.csv",
        normalization="results/pick/merged/normalization/{group}.json",
    log:
        "logs/merge_scores/{group}.log",
    wildcard_constraints:
        group="g[01]*",
    localrule: True
    conda:
        "../../envs/pickflow.yaml"
    params:
        code=script_code("merge_scores"),
    script:
        "../../scripts/merge_scores.py"


rule threshold:
    input:
        candidates=all_candidates,
        labels=if_labeled("results/labels/labels.csv"),
        split=if_trained("results/split/split.json"),
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
        code=script_code("threshold"),
        micrographs=sorted(MICROGRAPHS),
    script:
        "../../scripts/threshold.py"


checkpoint picks:
    input:
        candidates=all_candidates,
        threshold="results/pick/threshold.json",
    output:
        star="results/picks/particles.star",
        csv="results/picks/particles.csv",
        topaz="results/picks/particles_topaz.txt",
        per_micrograph=directory("results/picks/micrographs"),
        summary="results/picks/summary.json",
        relion=directory("results/picks/relion"),
        coordinate_files="results/picks/coordinate_files.star",
        cs="results/picks/particles.cs",
    log:
        "logs/picks.log",
    conda:
        "../../envs/pickflow.yaml"
    params:
        box_size=pickflow_config.box_size(config),
        micrographs=MICROGRAPH_NAMES,
        code=script_code("picks"),
    script:
        "../../scripts/picks.py"
