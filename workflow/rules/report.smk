rule plot_preprocessing:
    input:
        raw=thumbnail_inputs,
        preprocessed=preprocessed(THUMBNAILS),
        normalization=all_normalization,
    output:
        thumbnails=report(
            "results/plots/preprocessing.png",
            caption="../report/preprocessing.rst",
            category="Preprocessing",
            labels={"figure": "before / after"},
        ),
        normalization=report(
            "results/plots/normalization.png",
            caption="../report/normalization.rst",
            category="Preprocessing",
            labels={"figure": "normalization statistics"},
        ),
    log:
        "logs/plots/preprocessing.log",
    localrule: True
    conda:
        "../../envs/pickflow.yaml"
    params:
        code=script_code("plot_preprocessing"),
    script:
        "../../scripts/plot_preprocessing.py"


rule plots:
    input:
        metrics=if_trained("results/train/metrics.csv"),
        summary=if_trained("results/train/summary.json"),
        threshold="results/pick/threshold.json",
        curve="results/pick/pr_curve.csv",
        picks="results/picks/particles.csv",
        pick_summary="results/picks/summary.json",
        candidates=all_candidates,
        labels=if_labeled("results/labels/labels.csv"),
        split=if_trained("results/split/split.json"),
    output:
        training=report(
            "results/plots/training.png",
            caption="../report/training.rst",
            category="Training",
            labels={"figure": "training curves (final model)"},
        ),
        precision_recall=report(
            "results/plots/precision_recall.png",
            caption="../report/precision_recall.rst",
            category="Picking",
            labels={"figure": "held-out precision-recall"},
        ),
        picks_per_micrograph=report(
            "results/plots/picks_per_micrograph.png",
            caption="../report/picks_per_micrograph.rst",
            category="Picking",
            labels={"figure": "picks per micrograph"},
        ),
        score_histogram=report(
            "results/plots/score_histogram.png",
            caption="../report/score_histogram.rst",
            category="Picking",
            labels={"figure": "score histogram"},
        ),
        overlays=report(
            "results/plots/overlays.png",
            caption="../report/overlays.rst",
            category="Picking",
            labels={"figure": "overlays"},
        ),
    log:
        "logs/plots/plots.log",
    localrule: True
    conda:
        "../../envs/pickflow.yaml"
    params:
        preprocessed="results/preprocessed",
        picking_model=pickflow_config.picking_model_label(config),
        particle_radius=pickflow_config.particle_radius_px(config),
        code=script_code("plots"),
    script:
        "../../scripts/plots.py"


rule plot_overview:
    input:
        preprocessed=overview_inputs,
        summary="results/picks/summary.json",
        picks="results/picks/particles.csv",
    output:
        report(
            "results/plots/overview.png",
            caption="../report/overview.rst",
            category="Picking",
            labels={"figure": "overview of many micrographs"},
        ),
    log:
        "logs/plots/overview.log",
    localrule: True
    conda:
        "../../envs/pickflow.yaml"
    params:
        radius=pickflow_config.particle_radius_px(config),
        code=script_code("plot_overview"),
    script:
        "../../scripts/plot_overview.py"


rule plot_cv:
    input:
        table="results/cv/aggregate.csv",
        best="results/cv/best.json",
        metrics=cv_fold_metrics,
    output:
        metric_vs_value=report(
            "results/plots/cv_metric_vs_value.png",
            caption="../report/cv_metric_vs_value.rst",
            category="Cross-validation",
            labels={"figure": "metric vs value"},
        ),
        metric_vs_epoch=report(
            "results/plots/cv_metric_vs_epoch.png",
            caption="../report/cv_metric_vs_epoch.rst",
            category="Cross-validation",
            labels={"figure": "metric vs epoch"},
        ),
        fold_curves=report(
            "results/plots/cv_fold_curves.png",
            caption="../report/cv_fold_curves.rst",
            category="Cross-validation",
            labels={"figure": "training curves of every fold"},
        ),
    log:
        "logs/plots/cv.log",
    localrule: True
    conda:
        "../../envs/pickflow.yaml"
    params:
        code=script_code("plot_cv"),
    script:
        "../../scripts/plot_cv.py"


rule report_summary:
    input:
        train_metrics=if_trained("results/train/metrics.csv"),
        train_summary=if_trained("results/train/summary.json"),
        threshold="results/pick/threshold.json",
        picks="results/picks/summary.json",
        labels=if_labeled("results/labels/labels.csv"),
        split=if_trained("results/split/split.json"),
        cv_best=cv_best,
    output:
        summary="results/report/summary.rst",
        diagnostics="results/report/diagnostics.json",
    log:
        "logs/report_summary.log",
    localrule: True
    conda:
        "../../envs/pickflow.yaml"
    params:
        config=pickflow_config.report_settings(config),
        particle_diameter_px=2 * pickflow_config.particle_radius_px(config),
        code=script_code("report_summary"),
        picking_model=pickflow_config.picking_model_label(config),
    script:
        "../../scripts/report_summary.py"
