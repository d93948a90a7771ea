"""The pick stage (``workflow/rules/pick.smk``): micrographs scored with a network, score maps turned into particles,
the threshold chosen on the held-out micrographs. Training evaluates each epoch with it. Modules: ``scoring`` (whole
micrographs scored in tiles, with memory bounded), ``extract`` (score maps to coordinates: non-maximum suppression
and blob centroids), ``evaluation`` (picks against labels: one-to-one matching, precision-recall, AP and F1),
``threshold`` (the picking threshold, chosen on the held-out micrographs), ``overview`` (micrographs with unusually
few or many picks, and those the overview shows), ``batches`` (scoring batches that stay put as micrographs arrive)."""
