"""The run core: from a plan of jobs to a run folder.

``plan`` (images x codecs x operating points, shards), ``measure`` (one row: encode, decode,
checks, metrics), ``execution`` (in this process, a local pool, or a Dask cluster in
``cluster``, behind one loop), ``rows`` (the row schema), ``store`` (results.sqlite),
``rundir`` (every file of a run folder), ``benchmark`` (a whole run), ``merge`` (shards into one
run folder), ``distribution`` (FID/KID over sets), ``points`` and ``ratecontrol`` (operating
points), and the checks: ``conformance`` (the rows' reference-decoder outcome, per codec),
``plausibility`` (suspicious rows), ``complexity`` (the learned codecs' table).

The core imports the parts (``bench.codecs``, ``bench.metrics``); they never import it.
"""
