"""Recording: everything a lane does that must be on record, and what is read back from it.

- `recorder.py`: the one way to record: audited first, then queued for the centre;
- `audit/`: the tamper-evident audit log (hash chain, fsync, verification, retention);
- `outbox/`: the durable queue of events for the centre, and its MQTT publisher;
- `history.py`: the lane's recent crossings for the officer's history panel;
- `recovery.py`: what a crash left open, found in the audit log at start.
"""
