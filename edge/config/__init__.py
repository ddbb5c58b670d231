"""Typed configuration of a checkpoint, loaded from TOML: one module per concern, as the sections are.

Every model rejects unknown keys and is frozen, so a typo in a config file is an error at start-up
rather than a silently ignored setting, and nothing can change the configuration behind the audit
log's back. `loading.py` is the only code that reads a config file.

- `root.py`: the whole file (`EdgeConfig`); `site.py`: `[checkpoint]`;
- `lane.py`: `[[lanes]]`, with `cameras.py` and `plates.py`; the serial devices' settings are
  hardware's own (hardware/settings.py);
- `plate_regions.py` and `plate_regions.toml`: the built-in plate regions, as data;
- `faces.py`, `kiosk.py`, `watchlist.py`, `recording.py` (audit, outbox, central), `calibration.py`;
- `edit.py`: changing values in a config file without disturbing the rest of it (the technician's tools).
"""

from edge.config.base import Identifier, StrictModel
from edge.config.calibration import CalibrationConfig, DriftLimits
from edge.config.cameras import CameraConfig, LaneCameras, LensConfig, PerspectiveWarp, RegionOfInterest
from edge.config.faces import FacesConfig
from edge.config.kiosk import KioskAuthConfig, KioskConfig
from edge.config.lane import LaneConfig, LanePolicyConfig, LaneTimeouts, PresenceConfig
from edge.config.loading import DEFAULT_CONFIG, ConfigError, load_config, parse_config
from edge.config.plates import SURE_CONFIDENCE, PlateFormatConfig, PlatesConfig, PlateVotingConfig
from edge.config.recording import MQTT_TOPIC, AuditConfig, CentralConfig, MqttTlsConfig, OutboxConfig
from edge.config.root import DemoConfig, EdgeConfig, LoggingConfig
from edge.config.site import CheckpointConfig
from edge.config.watchlist import WatchlistConfig, WatchlistKey

__all__ = [
    "DEFAULT_CONFIG", "MQTT_TOPIC", "SURE_CONFIDENCE", "AuditConfig", "CalibrationConfig", "CameraConfig",
    "CentralConfig", "CheckpointConfig", "ConfigError", "DemoConfig", "DriftLimits", "EdgeConfig", "FacesConfig",
    "Identifier", "KioskAuthConfig", "KioskConfig", "LaneCameras", "LaneConfig", "LanePolicyConfig", "LaneTimeouts",
    "LensConfig", "LoggingConfig", "MqttTlsConfig", "OutboxConfig", "PerspectiveWarp", "PlateFormatConfig",
    "PlateVotingConfig", "PlatesConfig", "PresenceConfig", "RegionOfInterest", "StrictModel", "WatchlistConfig",
    "WatchlistKey", "load_config", "parse_config",
]
