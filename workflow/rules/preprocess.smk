rule preprocess:
    input:
        micrograph=micrograph_path,
        code=package("preprocess", "micrographs", "atomic"),
    output:
        mrc="results/preprocessed/{mic}.mrc",
        json="results/preprocessed/{mic}.json",
    log:
        "logs/preprocess/{mic}.log",
    group:
        "preprocess"
    conda:
        "../../envs/pickflow.yaml"
    threads: config["preprocess"]["threads"]
    params:
        preprocess=pickflow_config.preprocess_params(config),
    script:
        "../../scripts/preprocess.py"
