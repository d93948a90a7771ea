rule preprocess:
    input:
        micrograph=micrograph_path,
    output:
        json="results/preprocessed/{mic}.json",  # and the .mrc beside it, a cache (pickflow.preprocess.preprocessed)
    log:
        "logs/preprocess/{mic}.log",
    group:
        "preprocess"
    conda:
        "../../envs/pickflow.yaml"
    threads: config["preprocess"]["threads"]
    params:
        preprocess=pickflow_config.preprocess_params(config),
        identity=lambda wildcards: preprocessing_identity(wildcards.mic),
        code=script_code("preprocess"),
    script:
        "../../scripts/preprocess.py"


rule skipped_micrographs:
    output:
        "results/inputs/skipped.json",
    log:
        "logs/skipped_micrographs.log",
    localrule: True
    conda:
        "../../envs/pickflow.yaml"
    params:
        skipped=SKIPPED,
        code=script_code("skipped"),
    script:
        "../../scripts/skipped.py"
