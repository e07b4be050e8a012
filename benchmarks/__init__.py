"""The skmetacmh benchmark: hashers x datasets x code lengths x seeds, leak-free long-tail protocol.

Run it with ``python -m benchmarks.run`` or the console script ``skmetacmh-bench``; with no flags
it runs the default configuration ``benchmarks/configs/default.json`` (long-tailed UCI Multiple
Features, no download needed). ``--help`` lists the flags.
"""
