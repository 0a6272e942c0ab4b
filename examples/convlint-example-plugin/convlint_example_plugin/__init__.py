"""An example convlint plugin: a squeeze-and-excitation block and a depth-to-space layer.

The layer types live in :mod:`convlint_example_plugin.layers`, published under the ``convlint``
entry-point group (see this package's pyproject.toml).
"""
