"""Face matching: detection, quality gates, fusion, the operating threshold, and the 1:N index."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from edge.config.base import StrictModel


class FacesConfig(StrictModel):
    """Face matching (edge.faces): detection, quality gates, fusion, the operating threshold, 1:N index."""

    # Cosine similarity at or above which two faces are the same person. Set by
    # `edge faces calibrate DIR --target-fmr 0.001` on a labelled set, never tuned per test set; the
    # default is `edge faces calibrate DATA/faces/lfw` (docs/faces.md; 38,406 impostor pairs, FNMR 9.3% there).
    threshold: float = Field(default=0.9305283427238464, gt=-1, lt=1)
    # "yunet" (models/face_detector_yunet.onnx: a few ms per 720p frame, finds turned and small faces)
    # or "hog" (dlib's HOG, the fallback: about 50 ms per 720p frame at detect_scale 0.7). Either
    # falls back to dlib's CNN (fallback_scale) when a frame that should hold a face gives none.
    detector: Literal["yunet", "hog"] = "yunet"
    # HOG detection runs on the frame scaled by detect_scale: it finds faces from about 80 px
    # (after scaling, halved per upsample step): 0.7 found every face of the synthetic lane (106-134 px
    # wide), 0.5 only three in four (`edge bench face-frames` measures it).
    detect_scale: float = Field(default=0.7, gt=0, le=2)
    detect_upsample: int = Field(default=0, ge=0, le=2)
    # The stronger, slower CNN detector runs (at this scale) only when HOG finds nothing in a frame
    # that should hold a face.
    fallback_scale: float = Field(default=0.5, gt=0, le=2)
    fallback_upsample: int = Field(default=0, ge=0, le=2)
    # Quality gates; a face outside any of them is refused with the reason.
    min_inter_eye_px: float = Field(default=30, gt=0)
    min_sharpness: float = Field(default=1.5, ge=0)
    max_yaw_deg: float = Field(default=30, gt=0, le=90)
    max_pitch_deg: float = Field(default=25, gt=0, le=90)
    max_roll_deg: float = Field(default=30, gt=0, le=90)
    min_brightness: float = Field(default=50, ge=0, le=255)
    max_brightness: float = Field(default=215, ge=0, le=255)
    min_eye_openness: float = Field(default=0.16, ge=0, le=1)
    # Fusion: the best few faces of one traveller, each encoded with its mirror image.
    best_frames: int = Field(default=3, ge=1, le=20)
    mirror: bool = True
    # The network that encodes chips: "onnx" (models/face_encoder.onnx, dlib's network rebuilt, ~10x
    # faster) or "dlib" itself, the fallback; jitters (one extra pass each) need "dlib".
    encoder: Literal["onnx", "dlib"] = "onnx"
    jitters: int = Field(default=0, ge=0, le=100)
    # 1:N: exact below exact_max templates, the approximate index above (or always, as index says).
    index: Literal["auto", "exact", "hnsw"] = "auto"
    exact_max: int = Field(default=20_000, ge=0)
    top_k: int = Field(default=5, ge=1, le=100)

    @model_validator(mode="after")
    def _brightness_order(self) -> FacesConfig:
        if self.max_brightness <= self.min_brightness:
            raise ValueError("max_brightness must be above min_brightness")
        return self

    @model_validator(mode="after")
    def _jitters_need_dlib(self) -> FacesConfig:
        if self.jitters and self.encoder != "dlib":
            raise ValueError('jitters need encoder = "dlib" (the ONNX encoder has no random jitter)')
        return self

