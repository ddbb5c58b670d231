"""Why a bundle was refused: a fixed set of reasons (for audit and alarms) and the exception that carries one."""

from __future__ import annotations

from enum import StrEnum


class Refusal(StrEnum):
    MALFORMED = "malformed"  # not a bundle: bad magic, header or body framing
    UNKNOWN_KEY = "unknown_key"
    BAD_SIGNATURE = "bad_signature"
    KEY_RETIRED = "key_retired"
    EXPIRED = "expired"
    TRUNCATED = "truncated"  # fewer body bytes than the manifest promises
    TAMPERED = "tampered"  # body bytes do not hash to the signed body hash
    REPLAY = "replay"  # version not newer than the cache's (a replay or a rollback)
    WRONG_BASE = "wrong_base"  # a delta against a version the cache is not at
    INVALID_RECORD = "invalid_record"
    STATE_MISMATCH = "state_mismatch"  # applied content does not match the manifest's count or state hash
    DISK_FULL = "disk_full"
    IO_ERROR = "io_error"
    DOWNLOAD_FAILED = "download_failed"


class Refused(Exception):
    """A bundle the cache will not apply; the cache is exactly as it was before."""

    def __init__(self, reason: Refusal, detail: str):
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}")
