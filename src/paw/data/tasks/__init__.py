"""One module per benchmark task; each defines a small `Task` subclass (see paw.data.base)."""
