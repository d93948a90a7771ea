"""The workflow's own machinery, above the stages: what the ``Snakefile`` and ``workflow/rules/common.smk`` call while
the workflow is parsed (the configuration, input checks, fingerprints, code digests), and ``pickflow watch``, which
reruns the workflow as micrographs arrive. Keep it free of torch at import: the parse imports it. Modules:
``config`` (the run configuration: schema validation, semantic checks, the settings each step receives), ``sanity``
(input that is legal but most likely a mistake: warnings at parse time), ``fingerprint`` (content fingerprints of
the input micrographs), ``codedeps`` (the code a job runs, found from its imports, digested into the rule's params),
``watch`` (on-the-fly picking, ``pickflow watch``)."""
