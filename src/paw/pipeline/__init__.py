"""What the DVC stages share: where each output lives, which base and adapter each evaluation uses, the checks
that refuse an inconsistent set of params, and the wrapper that turns errors into one line and a non-zero exit."""
