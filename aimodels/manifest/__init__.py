"""Manifest loading and validation: YAML files and folders in, documents with file:line:column
out, every problem reported as a Diagnostic in one run. No network."""
