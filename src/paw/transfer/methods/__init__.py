"""One module per transfer method; each registers itself with `paw.transfer.registry.register`."""
