"""The offline IMDb: a synthetic catalogue served as IMDb's GraphQL API and as its HTML pages,
with injectable faults, for the demo, the tests and the benchmarks."""
