"""The labels, train and cv stages (``workflow/rules/labels.smk``, ``train.smk``, ``cv.smk``): the split,
cross-validation, the positive-unlabeled objectives and the training loop. Modules: ``split`` (the train/test split
of the labeled micrographs, by micrograph), ``crossval`` (cross-validation folds, the values tried, aggregation and
the choice), ``prior`` (the class prior from the expected particles per micrograph), ``losses`` (the
positive-unlabeled objectives), ``sampling`` (minibatches: receptive-field crops or patches, rotated and flipped),
``loop`` (the training loop: TrainConfig, train(), per-epoch evaluation, best epoch, resuming)."""
