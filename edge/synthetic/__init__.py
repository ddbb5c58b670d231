"""The synthetic crossing: rendered lanes, plates, drivers and passports for the demo and tests.

    scene = scene_for("lane-1", seed=7)
    frame = scene.render("plate", time.time())     # or "face"; BGR uint8 1280x720
    truth = scene.truth_at(time.time())            # ground truth, for tests and benchmarks only
    scene.document_presented(t0, t1)               # [(t, (mrz_line1, mrz_line2)), ...]
"""

from edge.synthetic.crops import PlateMeta, render_plate
from edge.synthetic.datasets import PlateFrame, plate_frames, write_plate_crops, write_plate_frames
from edge.synthetic.regions import REGIONS, random_plate_text
from edge.synthetic.scene import CAMERAS, Scene, SceneTruth, scene_for

__all__ = [
    "CAMERAS",
    "REGIONS",
    "PlateFrame",
    "PlateMeta",
    "Scene",
    "SceneTruth",
    "plate_frames",
    "random_plate_text",
    "render_plate",
    "scene_for",
    "write_plate_crops",
    "write_plate_frames",
]
