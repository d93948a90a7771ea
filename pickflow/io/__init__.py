"""Input and output, the bottom layer: the files pickflow reads and writes and the records the workflow's steps pass to
each other. It imports nothing above it (only ``pickflow.errors``), and every stage uses it. Modules: ``atomic``
(atomic file output: write beside the target, then rename), ``micrographs`` (MRC, TIFF, PNG and JPEG micrographs,
read and written), ``coordinates`` (particle coordinate files: RELION STAR, Topaz txt, CSV and EMAN .box),
``relion`` (picks in the files RELION reads as they are), ``cryosparc`` (picks as a cryoSPARC particle dataset),
``records`` (the files passed between steps as typed records: split, folds, best, summaries, threshold), ``inputs``
(finding the input micrographs and checking the labels before any job runs)."""
