"""Subcommands of the `edge` CLI, one module per command group.

Each module defines `register(subparsers)`, which adds its parser(s) and sets `func` on them;
a module may also define `register_bench(subparsers)` to add an `edge bench <name>` command.
A `func` takes the parsed arguments and returns the process exit code.
"""
