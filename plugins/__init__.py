"""convlint's built-in layer plugins, one module per layer family.

Installed as ``convlint_plugins`` and loaded through the ``convlint``
entry-point group, exactly like a third-party plugin.
"""
