rule plots:
    input:
        metrics="results/train/metrics.csv",
        summary="results/train/summary.json",
        threshold="results/pick/threshold.json",
        curve="results/pick/pr_curve.csv",
        picks="results/picks/particles.csv",
        pick_summary="results/picks/summary.json",
        labels="results/labels/labels.csv",
        split="results/split/split.json",
        preprocessed_meta=preprocessed(LABELED, "json"),
        code=package("plots"),
    output:
        **{plot: f"results/plots/{plot}.png" for plot in PLOTS},
    log:
        "logs/plots.log",
    localrule: True
    conda:
        "../../envs/pickflow.yaml"
    params:
        preprocessed=preprocessed_dir,
    script:
        "../../scripts/plots.py"
