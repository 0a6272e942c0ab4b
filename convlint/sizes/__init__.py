"""Named input sizes: symbolic shapes, the exact size solver, and the valid-size report."""
