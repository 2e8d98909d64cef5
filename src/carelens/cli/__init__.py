"""Command-line entry points. Commands parse arguments, call a capability, and present results."""
