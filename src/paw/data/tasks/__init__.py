"""One module per benchmark task; each defines a small `Task` subclass (see paw.data.base) decorated with
`@register_task` (paw.data.registry), which imports every module here on the first lookup."""
