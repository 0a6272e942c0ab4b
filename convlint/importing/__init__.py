"""Importing existing models as specs: ONNX graphs (:mod:`~convlint.importing.onnx_graph`) and
``torch.nn`` modules (:mod:`~convlint.importing.torch_trace`), written out by
:mod:`~convlint.importing.spec_writer`.  Which layer type an ONNX node or a module becomes is asked of
the layer types themselves (``LayerType.onnx_ops``, ``from_onnx``, ``torch_functions``, ``from_torch``)."""
