"""Frame (or crop) in, plate reads out: detect → rectify → recognise → decode (voting: edge/plates/voting.py).

Each stage is an interface with its implementations chosen in config (see edge/plates/stages.py);
`PlateReader` only strings them together.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import cv2
import numpy as np

from edge.config import PlatesConfig, RegionOfInterest
from edge.config.plate_regions import BUILTIN_REGIONS, RegionFormat
from edge.plates.decoders import FormatDecoder, GreedyDecoder
from edge.plates.detector import shared_detector
from edge.plates.localiser import Roi, RowDetector, clip_roi
from edge.plates.ocr import EasyOcrRecogniser
from edge.plates.reads import FrameRead, as_quad
from edge.plates.recogniser import shared_recogniser
from edge.plates.rectify import cut_plate
from edge.plates.stages import PlateCandidate, PlateDecoder, PlateDetector, PlateImage, PlateRecogniser

DetectorKind = Literal["cnn", "rows"]
RecogniserKind = Literal["cnn", "easyocr"]
DecoderKind = Literal["formats", "greedy"]


@dataclass(frozen=True)
class PlateReaderSettings:
    # Region formats tried on every plate; the best reading among them wins.
    regions: tuple[str, ...] = ("any",)
    roi: Roi | None = None
    # Plates (the detector's best boxes) read per frame: each read costs ~2 ms with the CNN recogniser.
    candidates: int = 3
    # Reads below this confidence are not reported at all.
    min_confidence: float = 0.2
    detector: DetectorKind = "cnn"
    recogniser: RecogniserKind = "cnn"
    decoder: DecoderKind = "formats"


def grey(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] in (3, 4):
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY)
    raise ValueError(f"expected a grey or BGR image, got an array of shape {image.shape}")


def make_detector(kind: DetectorKind) -> PlateDetector:
    return shared_detector() if kind == "cnn" else RowDetector()


def make_recogniser(kind: RecogniserKind) -> PlateRecogniser:
    return shared_recogniser() if kind == "cnn" else EasyOcrRecogniser()


def make_decoder(kind: DecoderKind) -> PlateDecoder:
    return FormatDecoder() if kind == "formats" else GreedyDecoder()


class PlateReader:
    @classmethod
    def from_config(cls, plates: PlatesConfig, roi: RegionOfInterest | None = None) -> PlateReader:
        box = (roi.x, roi.y, roi.width, roi.height) if roi is not None else None
        settings = PlateReaderSettings(regions=tuple(plates.regions), roi=box, candidates=plates.candidates,
                                  min_confidence=plates.min_confidence, detector=plates.detector,
                                  recogniser=plates.recogniser, decoder=plates.decoder)
        return cls(settings, plates.region_formats())

    def __init__(self, settings: PlateReaderSettings | None = None,
                 formats: Mapping[str, RegionFormat] = BUILTIN_REGIONS, *,
                 detector: PlateDetector | None = None, recogniser: PlateRecogniser | None = None,
                 decoder: PlateDecoder | None = None) -> None:
        self.settings = settings or PlateReaderSettings()
        unknown = [code for code in self.settings.regions if code not in formats]
        if unknown:
            raise ValueError(f"unknown plate region(s) {', '.join(unknown)}; known: {', '.join(sorted(formats))}")
        self._formats = formats
        self._regions = [formats[code] for code in self.settings.regions]
        self._detector = detector or make_detector(self.settings.detector)
        self._recogniser = recogniser or make_recogniser(self.settings.recogniser)
        self._decoder = decoder or make_decoder(self.settings.decoder)

    def detect(self, image: np.ndarray) -> list[PlateCandidate]:
        """The detector's plates in a whole frame (inside the ROI), in frame pixels, best first."""
        gray = grey(image)
        x0, y0, w, h = clip_roi(gray.shape, self.settings.roi)
        offset = np.array([x0, y0], np.float64)
        return [PlateCandidate(as_quad(np.array(c.quad) + offset), c.score)
                for c in self._detector.detect(gray[y0:y0 + h, x0:x0 + w])]

    def read_frame(self, image: np.ndarray, timestamp: float = 0.0) -> list[FrameRead]:
        """Plates read in a whole frame (inside the ROI when one is set), most likely plates first.

        A read's rank is the detector's score times the read's confidence: the detector knows a
        plate from painted lettering, the recogniser knows how well the characters read.
        """
        gray = grey(image)
        ranked: list[tuple[float, FrameRead]] = []
        for candidate in self.detect(gray)[: self.settings.candidates]:
            plate = cut_plate(gray, candidate)
            read = None if plate is None else self._read(plate, self._regions, timestamp)
            if read is not None:
                ranked.append((candidate.score * read.confidence, read))
        ranked.sort(key=lambda pair: pair[0], reverse=True)
        return _distinct([read for _, read in ranked])

    def read_crop(self, image: np.ndarray, region: str | None = None) -> FrameRead | None:
        """The plate in an image that is one plate (a crop), or None when no plate text is found."""
        regions = self._regions if region is None else [self._region(region)]
        return self._read(PlateImage(grey(image), (0.0, 0.0)), regions, 0.0)

    def _region(self, code: str) -> RegionFormat:
        try:
            return self._formats[code]
        except KeyError:
            raise ValueError(f"unknown plate region {code!r}") from None

    def _read(self, plate: PlateImage, regions: list[RegionFormat], timestamp: float) -> FrameRead | None:
        evidence = self._recogniser.recognise(plate)
        found = self._decoder.decode(evidence, regions)
        if found is None or found.decoded.confidence < self.settings.min_confidence:
            return None
        reading = evidence.readings[found.reading]
        decoded = found.decoded
        return FrameRead(decoded.text, found.region, decoded.confidence, decoded.char_confidences, reading.quad,
                         timestamp, reading.crop)


def _distinct(reads: list[FrameRead]) -> list[FrameRead]:
    """In order, one read per text (two boxes on one plate read the same)."""
    seen: set[str] = set()
    out = []
    for read in reads:
        if read.text not in seen:
            seen.add(read.text)
            out.append(read)
    return out
