"""Pairwise human rating studies on a run's reconstructions.

A study is a folder (:mod:`bench.study.design`): ``study.json`` (the conditions, images and
trials), ``images/`` (the originals, reconstructions and gold images under opaque names) and
``answers.sqlite`` (:mod:`bench.study.store`: raters and their answers). :mod:`bench.study.server`
serves it to raters' browsers, :mod:`bench.study.analysis` ranks the conditions from the answers,
:mod:`bench.study.simulate` answers over HTTP as simulated raters and :mod:`bench.study.report`
is the report's "Human preference" section. The format is documented in ``docs/study.md``.
"""
