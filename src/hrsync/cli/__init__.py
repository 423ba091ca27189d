"""The command line: typer app, one module per noun; the only place that prints or exits."""
