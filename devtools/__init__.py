"""Tools for development, demos and benchmarks (pure Python, no Django): the Teleport log
generator, the hostile-input corpus and the parse benchmark. Workers never import this package."""
