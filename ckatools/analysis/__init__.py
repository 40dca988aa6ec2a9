"""What the book measures with the engine: block structure (:mod:`~.blocks`), probes, pruning,
ReLU sparsity, best-matching layers, mistakes, per-example CKA, minibatch convergence, and the
one rule that turns numbers into a verdict (:mod:`~.verdicts`)."""
