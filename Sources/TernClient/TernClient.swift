// TernClient: see docs/architecture.md.
