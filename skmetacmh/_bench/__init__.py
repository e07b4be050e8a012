"""The skmetacmh benchmark: hashers x datasets x code lengths x seeds, leak-free long-tail protocol.

Run it with the console script ``skmetacmh-bench`` or ``python -m skmetacmh._bench``; with no
flags it runs the shipped configuration ``default.json`` (long-tailed UCI Multiple Features, no
download needed). ``--help`` lists the flags. The focused scripts in the source tree's
``benchmarks/`` folder take their data, split, hasher registry and scorer from here:

* :mod:`._data`: the datasets by name;
* :mod:`._protocol`: the split (:func:`~._protocol.split_long_tailed`) and the scorer
  (:func:`~._protocol.run_once`);
* :mod:`._registry`: benchmark names -> hasher classes, and :func:`~._registry.make_hasher`;
* :mod:`._config`: the configuration schema and the frozen ``Config``; :mod:`._plan`: one
  frozen ``RunSpec`` per run, and the checks before any run; :mod:`._runner`: resume,
  execution and outputs; :mod:`.cli`: the command line; :mod:`._report`: tables and figures;
* :mod:`._measure`: peak traced memory; :mod:`._ridge_floor`: the linear reference hasher.
"""
