"""What the DVC stages share: where each output lives, which base and adapter each evaluation uses, the checks
that refuse an inconsistent set of params, the transfer stage's selection and placing of its outputs, and the wrapper
that checks a stage's argument and turns errors into one line and a non-zero exit."""
