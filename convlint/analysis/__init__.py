"""Stage 2, analysis: the spec as a graph, shape inference in topological order, size arithmetic, window findings, receptive fields and metrics."""
