"""Fleet what-if: capacity planning for pod-level resource managers across many nodes.

* :mod:`topolet.fleet.spec` -- the fleet file (node pools, scheduler settings, variants);
* :mod:`topolet.fleet.workload` -- manifests and the seeded ``WorkloadMix`` generator;
* :mod:`topolet.fleet.convert` -- the per-container model users write today (pure);
* :mod:`topolet.fleet.scheduler` -- kube-scheduler NodeResourcesFit, bucketed by score;
* :mod:`topolet.fleet.sim` -- one cell: placement then kubelet admission with the engine;
* :mod:`topolet.fleet.variants` -- ``--compare`` variants;
* :mod:`topolet.fleet.runner` -- cells in one process or on Dask, merged in order;
* :mod:`topolet.fleet.render` / :mod:`topolet.fleet.output` -- tables, Parquet/CSV, plots.
"""
