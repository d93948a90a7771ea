rule preprocess:
    input:
        micrograph=micrograph_path,
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
        code=script_code("preprocess"),
    script:
        "../../scripts/preprocess.py"
