"""The preprocess stage (``workflow/rules/preprocess.smk``): each micrograph downsampled and normalized once, for
training and scoring alike. Modules: ``image`` (Fourier-crop downsampling, optional lowpass, normalization),
``preprocessed`` (the preprocessed micrographs on disk: NAME.json, the record, and NAME.mrc, a cache)."""
