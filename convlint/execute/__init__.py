"""The NumPy reference executor: the graph run on arrays, with kernels, memory planning and images."""
