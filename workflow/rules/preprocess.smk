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
        preprocess=json.dumps(pickflow_config.preprocess_params(config), sort_keys=True),
        identity=lambda wildcards: preprocessing_identity(wildcards.mic),
        code=script_code("preprocess"),
    # A command line, not `script:`: Snakemake reads a `script:` rule's source once per job while it plans,
    # about 7% of the CPU time of a dry run of 30,000 micrographs (benchmarks/README.md, "Large projects").
    shell:
        '"$PICKFLOW_PYTHON" "$PICKFLOW_SCRIPTS/preprocess.py" {input.micrograph:q} {output.json:q} {log:q}'
        " {params.preprocess:q} {params.identity}"


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
