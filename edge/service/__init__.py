"""The running service: one process for every lane of the checkpoint, and what keeps it alive for months.

- `checkpoint.py`: the lanes and what they share, the kiosk's backend;
- `runner.py`: the kiosk server around it, and a clean stop;
- `systemd.py`: readiness, status and a watchdog fed by real pipeline progress;
- `install.py`: `edge service install` (user, directories, config, unit);
- `storage.py`: the state disk's alarm; `allocator.py`: glibc arenas; `proc.py`: the process's resources;
- `logs.py`: structured logs for journald; `metrics.py`: Prometheus text for the operator.
"""
