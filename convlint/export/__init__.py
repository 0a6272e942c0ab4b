"""``convlint export``: a checked spec as PyTorch source (:mod:`.torch_source`) or as an ONNX model
(:mod:`.onnx_model`).  Both start from :mod:`.prepare`, which refuses a spec with lint errors."""
