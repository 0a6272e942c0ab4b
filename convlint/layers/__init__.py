"""The layer-type interface plugins implement (LayerType, keywords, hooks) and the registry that loads them."""
