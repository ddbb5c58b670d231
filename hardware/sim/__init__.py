"""Device simulators, run as processes: `python -m hardware.sim barrier|reader ...`.

Each speaks the real device protocol (Modbus RTU for the barrier's relay board, a reader
framing for the document reader) on a TCP port (`socket://127.0.0.1:PORT` from the product
side) or a pty pair (the slave path, optionally behind a stable symlink, like a udev name).
They are driven by text commands, one per line, on their control port and on stdin; every
command is answered with one JSON line. See `python -m hardware.sim --help`.
"""
