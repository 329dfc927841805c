"""The run core: from a plan of jobs to a run folder.

``plan`` (images x codecs x operating points, shards), ``measure`` (one row: encode, decode,
checks, metrics), ``execution`` (in this process, a local pool, or a Dask cluster in
``cluster``, behind one loop), ``rows`` (the row schema), ``store`` (results.sqlite),
``rundir`` (every file of a run folder), ``benchmark`` (a whole run), ``merge``, ``distribution``
(FID/KID over sets), ``points`` and ``ratecontrol`` (operating points), and the checks:
``conformance`` (reference decoders), ``plausibility`` (suspicious rows), ``complexity``.
"""
