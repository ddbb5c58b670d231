"""The tamper-evident audit log: hash-chained records, blobs by sha256 beside it, retention, verify.

The service opens one AuditLog(config.state_dir / config.audit.dir) and calls append() before
each action it records takes effect.
"""

from edge.recording.audit.blobs import BlobRef
from edge.recording.audit.log import AuditBusy, AuditCorrupt, AuditLog, Head, PurgeResult
from edge.recording.audit.records import (
    AUDIT_REPAIR,
    BARRIER_COMMAND,
    CAMERA_STATUS,
    CONFIG_CHANGE,
    CROSSING_CLOSED,
    CROSSING_RESTORED,
    DECISION,
    DEVICE_FAULT,
    OFFICER_ACTION,
    RETENTION_PURGE,
    STORAGE_ALARM,
    SYNC,
    AuditError,
    AuditRecord,
    InvalidRecord,
)
from edge.recording.audit.verify import Break, VerifyReport, verify_log

__all__ = [
    "AUDIT_REPAIR", "BARRIER_COMMAND", "CAMERA_STATUS", "CONFIG_CHANGE", "CROSSING_CLOSED", "CROSSING_RESTORED",
    "DECISION", "DEVICE_FAULT", "OFFICER_ACTION", "RETENTION_PURGE", "STORAGE_ALARM", "SYNC", "AuditBusy",
    "AuditCorrupt", "AuditError", "AuditLog", "AuditRecord", "BlobRef", "Break", "Head", "InvalidRecord",
    "PurgeResult", "VerifyReport", "verify_log",
]
