"""Animations of a layer's sliding window (``convlint animate``).

:mod:`~convlint.render.animate.frames` works out which cells each frame touches,
:mod:`~convlint.render.animate.scene` lays the frames out as shapes in pixels, and the
writers turn a scene into an animated SVG (:mod:`~convlint.render.animate.svg`, no
dependency) or GIF and PNG contact sheet (:mod:`~convlint.render.animate.raster`, Pillow).
:mod:`~convlint.render.animate.layer` finds the window of a layer in a spec or on the command line.
"""
