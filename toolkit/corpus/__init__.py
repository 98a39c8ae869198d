"""Corpus mode: many document pairs, on a local process pool or a Ray cluster, resumable.

:func:`~toolkit.corpus.runner.run_corpus` owns the bookkeeping (keys, done
markers, the run manifest, the corpus outputs); :mod:`toolkit.corpus.engines`
owns the scheduling; :mod:`toolkit.corpus.worker` is what runs on a worker.
"""
