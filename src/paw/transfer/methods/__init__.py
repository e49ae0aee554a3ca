"""One module per transfer method; each registers itself with `@register` (paw.transfer.registry), and every module
here is imported on the first method lookup."""
