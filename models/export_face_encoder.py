"""Export dlib's face recognition ResNet to ONNX (`models/face_encoder.onnx`) by parsing its .dat file.

Run: `.venv/bin/python models/export_face_encoder.py [--output OUT.onnx] [--check DIR]`.
Exporting needs numpy and onnx (and finds the .dat through edge); `--check` also runs dlib and onnxruntime.
Nothing is downloaded.

The source is `dlib_face_recognition_resnet_model_v1.dat` from the face_recognition_models package:
dlib's own binary serialisation of `anet_type` in dlib's examples/dnn_face_recognition_ex.cpp,

    loss_metric<fc_no_bias<128, avg_pool_everything<alevel0<alevel1<alevel2<alevel3<alevel4<
        max_pool<3,3,2,2, relu<affine<con<32,7,7,2,2, input_rgb_image_sized<150>>>>>>>>>>>>>

The file is parsed by models/dlib_network.py (dlib's serialisation, documented there).

The ONNX graph repeats dlib's CPU arithmetic: convolutions are cross-correlations with zero
padding; pooling windows never leave the map here; `add_prev` adds two maps of different sizes by
zero-padding the smaller at the end of each axis (channels, rows, columns), which happens in the
downsampling blocks, where dlib's 2x2 average pool of the skip path and the block's stride-2 3x3
convolution disagree on odd sizes (8 -> 4 vs 3, 4 -> 2 vs 1). Each `affine` (batch norm frozen to
a per-channel scale and shift) is folded into the convolution before it.

Input `chips`: float32 (batch, 3, 150, 150), RGB in that channel order, raw pixel values 0..255 of
the chip `dlib.get_face_chip(rgb, shape, size=150, padding=0.25)` (HWC uint8) transposed to CHW. The
graph applies dlib's input normalisation, (pixel - channel mean) / 256. Output `descriptor`:
float32 (batch, 128), dlib's raw descriptor (not unit length).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import onnx
from dlib_network import AddPrev, Affine, Conv, Dense, Layer, Network, Pool, Relu, Skip, Tag, read_network
from onnx import TensorProto, helper, numpy_helper

from edge.faces.dlib_models import model_file

if TYPE_CHECKING:  # only --check needs onnxruntime (and dlib): imported there
    import onnxruntime as ort

OUTPUT = Path(__file__).with_name("face_encoder.onnx")
MODEL_FILE = "dlib_face_recognition_resnet_model_v1.dat"
LANDMARK_FILE = "shape_predictor_68_face_landmarks.dat"  # what edge/faces/dlib_models.py aligns with
CHIP_SIZE = 150
CHIP_PADDING = 0.25
# The same ONNX versions as models/plate_ocr.onnx, which every onnxruntime >= 1.20 reads.
OPSET = 17
IR_VERSION = 8
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp"}

# --------------------------------------------------------------------------------------------
# The ONNX graph


def fold_affines(layers: list[Layer]) -> list[Layer]:
    """Fold each per-channel affine into the convolution right below it: conv(x, w) * g + b is
    conv(x, w * g) + (bias * g + b). It saves a pass over every feature map."""
    folded: list[Layer] = []
    for layer in layers:
        previous = folded[-1] if folded else None
        if isinstance(layer, Affine) and layer.per_channel and isinstance(previous, Conv) and not previous.relu:
            gamma, beta = layer.gamma.ravel(), layer.beta.ravel()
            bias = beta if previous.bias is None else previous.bias * gamma + beta
            folded[-1] = replace(previous, weights=previous.weights * gamma[:, None, None, None], bias=bias)
        else:
            folded.append(layer)
    return folded


class GraphBuilder:
    """Adds nodes bottom-up, tracking each map's static (channels, rows, cols); the batch is dynamic."""

    def __init__(self) -> None:
        self.nodes: list[onnx.NodeProto] = []
        self.initializers: list[onnx.TensorProto] = []
        self._count = 0

    def _name(self, stem: str) -> str:
        self._count += 1
        return f"{stem}_{self._count}"

    def constant(self, stem: str, value: np.ndarray) -> str:
        name = self._name(stem)
        self.initializers.append(numpy_helper.from_array(value, name))
        return name

    def node(self, op: str, inputs: list[str], **attributes: object) -> str:
        output = self._name(op.lower())
        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attributes))
        return output


Shape = tuple[int, int, int]


def _conv_size(size: int, window: int, stride: int, padding: int) -> int:
    return 1 + (size + 2 * padding - window) // stride  # dlib's and ONNX's output size alike


def _zero_pad_to(graph: GraphBuilder, name: str, shape: Shape, target: Shape) -> str:
    """dlib's add_prev treats a smaller map as zero beyond its end on every axis."""
    if shape == target:
        return name
    ends = [0, *(t - s for s, t in zip(shape, target, strict=True))]
    pads = graph.constant("pads", np.array([0, 0, 0, 0, *ends], dtype=np.int64))
    return graph.node("Pad", [name, pads], mode="constant")


def _emit_layer(
    graph: GraphBuilder, layer: Layer, current: str, shape: Shape, tags: dict[int, tuple[str, Shape]]
) -> tuple[str, Shape]:
    """The ONNX nodes for one layer: returns the new current map and its shape."""
    channels, rows, cols = shape
    if isinstance(layer, Conv):
        out, inp, kr, kc = layer.weights.shape
        if inp != channels:
            raise ValueError(f"conv expects {inp} channels, gets {channels}")
        inputs = [current, graph.constant("conv_w", layer.weights)]
        if layer.bias is not None:
            inputs.append(graph.constant("conv_b", layer.bias))
        (sy, sx), (py, px) = layer.stride, layer.padding
        current = graph.node("Conv", inputs, kernel_shape=[kr, kc], strides=[sy, sx], pads=[py, px, py, px])
        if layer.relu:
            current = graph.node("Relu", [current])
        return current, (out, _conv_size(rows, kr, sy, py), _conv_size(cols, kc, sx, px))
    if isinstance(layer, Affine):
        scaled = graph.node("Mul", [current, graph.constant("gamma", layer.gamma)])
        return graph.node("Add", [scaled, graph.constant("beta", layer.beta)]), shape
    if isinstance(layer, Relu):
        return graph.node("Relu", [current]), shape
    if isinstance(layer, Pool):
        if layer.window == (0, 0):
            op = "GlobalMaxPool" if layer.kind == "max" else "GlobalAveragePool"
            return graph.node(op, [current]), (channels, 1, 1)
        (wr, wc), (sy, sx), (py, px) = layer.window, layer.stride, layer.padding
        attributes: dict[str, object] = {"kernel_shape": [wr, wc], "strides": [sy, sx], "pads": [py, px, py, px]}
        if layer.kind == "avg":
            attributes["count_include_pad"] = 0  # dlib averages only the window's part inside the map
        op = "MaxPool" if layer.kind == "max" else "AveragePool"
        return graph.node(op, [current], **attributes), (
            channels, _conv_size(rows, wr, sy, py), _conv_size(cols, wc, sx, px),
        )  # fmt: skip
    if isinstance(layer, Tag):
        tags[layer.id] = (current, shape)
        return current, shape
    if isinstance(layer, Skip):
        return tags[layer.id]
    if isinstance(layer, AddPrev):
        other, other_shape = tags[layer.id]
        target = tuple(max(a, b) for a, b in zip(shape, other_shape, strict=True))
        left = _zero_pad_to(graph, current, shape, target)
        right = _zero_pad_to(graph, other, other_shape, target)
        return graph.node("Add", [left, right]), target
    if isinstance(layer, Dense):
        if layer.weights.shape[0] != channels * rows * cols:
            raise ValueError(f"fc expects {layer.weights.shape[0]} inputs, gets {shape}")
        flat = graph.node("Flatten", [current], axis=1)  # dlib flattens (k, nr, nc) row-major too
        current = graph.node("MatMul", [flat, graph.constant("fc_w", layer.weights)])
        if layer.bias is not None:
            current = graph.node("Add", [current, graph.constant("fc_b", layer.bias)])
        return current, (layer.weights.shape[1], 1, 1)
    raise TypeError(f"unknown layer {layer!r}")


def build_model(network: Network) -> onnx.ModelProto:
    graph = GraphBuilder()
    inp = network.input
    # dlib's input layer: (pixel - mean) / 256 per channel, red first. 1/256 is exact in float32,
    # so the multiplication gives dlib's numbers bit for bit.
    mean = np.array(inp.mean, dtype=np.float32).reshape(1, 3, 1, 1)
    centred = graph.node("Sub", ["chips", graph.constant("mean", mean)])
    current = graph.node("Mul", [centred, graph.constant("scale", np.array(1 / 256, dtype=np.float32))])
    shape: Shape = (3, inp.rows, inp.cols)
    tags: dict[int, tuple[str, Shape]] = {}
    for layer in fold_affines(network.layers):
        current, shape = _emit_layer(graph, layer, current, shape, tags)
    graph.nodes.append(helper.make_node("Identity", [current], ["descriptor"], name="descriptor"))
    onnx_graph = helper.make_graph(
        graph.nodes,
        "dlib_face_recognition_resnet_model_v1",
        [helper.make_tensor_value_info("chips", TensorProto.FLOAT, ["batch", 3, inp.rows, inp.cols])],
        [helper.make_tensor_value_info("descriptor", TensorProto.FLOAT, ["batch", shape[0]])],
        graph.initializers,
    )
    model = helper.make_model(
        onnx_graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name="checkpoint-edge models/export_face_encoder.py",
        ir_version=IR_VERSION,
    )
    model.doc_string = (
        "dlib_face_recognition_resnet_model_v1 (dlib, face_recognition_models). Input chips: float32 "
        "(batch, 3, 150, 150), RGB 0..255 of dlib.get_face_chip(size=150, padding=0.25), CHW. Output "
        "descriptor: float32 (batch, 128), dlib's raw descriptor."
    )
    onnx.checker.check_model(model, full_check=True)
    return model


def describe(layers: list[Layer]) -> str:
    """One line per layer, bottom-up, for the log."""
    lines = []
    for layer in layers:
        if isinstance(layer, Conv):
            out, inp, kr, kc = layer.weights.shape
            text = f"con {inp}->{out} {kr}x{kc}/{layer.stride[0]} pad {layer.padding[0]}"
        elif isinstance(layer, Pool) and layer.window == (0, 0):
            text = f"{layer.kind}_pool_everything"
        elif isinstance(layer, Pool):
            text = f"{layer.kind}_pool {layer.window[0]}x{layer.window[1]}/{layer.stride[0]} pad {layer.padding[0]}"
        elif isinstance(layer, Dense):
            text = f"fc {layer.weights.shape[0]}->{layer.weights.shape[1]}{'' if layer.bias is None else ' +bias'}"
        elif isinstance(layer, Tag | Skip | AddPrev):
            text = f"{type(layer).__name__.lower()}{layer.id}"
        else:
            text = type(layer).__name__.lower()
        lines.append(text)
    return "\n".join(lines)


# --------------------------------------------------------------------------------------------
# Agreement with dlib


def face_chips(folder: Path) -> Iterator[np.ndarray]:
    """Every face dlib's HOG detector finds in the images under folder, as the product aligns it."""
    import dlib

    detector = dlib.get_frontal_face_detector()
    predictor = dlib.shape_predictor(model_file(LANDMARK_FILE))
    for path in sorted(folder.rglob("*")):
        if path.suffix.lower() not in IMAGE_SUFFIXES:
            continue
        image = dlib.load_rgb_image(str(path))
        for box in detector(image, 1):
            shape = predictor(image, box)
            yield dlib.get_face_chip(image, shape, size=CHIP_SIZE, padding=CHIP_PADDING)


def _timed(function: Callable[[Any], Any], argument: Any) -> tuple[np.ndarray, float]:
    start = time.perf_counter()
    result = np.asarray(function(argument), dtype=np.float32)
    return result, (time.perf_counter() - start) * 1000


def _onnx_session(model_path: Path, threads: int) -> ort.InferenceSession:
    """threads 0: onnxruntime's default (one per core)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(model_path), options, providers=["CPUExecutionProvider"])


def _onnx_descriptor(session: ort.InferenceSession, chips: np.ndarray) -> np.ndarray:
    return session.run(None, {"chips": chips})[0][0]


def _as_input(chips: list[np.ndarray]) -> np.ndarray:
    return np.ascontiguousarray(np.stack(chips).transpose(0, 3, 1, 2), dtype=np.float32)


def check(
    model_path: Path, dat_path: Path, folder: Path, thread_counts: tuple[int, ...] = (0, 1, 2)
) -> dict[str, object]:
    """dlib's and ONNX's descriptors for the same chips, one face at a time, and their speed."""
    import dlib

    chips = list(face_chips(folder))
    if not chips:
        raise SystemExit(f"no faces found under {folder}")
    network = dlib.face_recognition_model_v1(str(dat_path))
    network.compute_face_descriptor(chips[0], 0)  # warm up
    dlib_runs = [_timed(lambda chip: network.compute_face_descriptor(chip, 0), chip) for chip in chips]
    reference = np.stack([descriptor for descriptor, _ in dlib_runs])
    result: dict[str, object] = {
        "faces": len(chips),
        "dlib_ms_median": round(statistics.median(ms for _, ms in dlib_runs), 2),
    }
    for threads in thread_counts:
        session = _onnx_session(model_path, threads)
        session.run(None, {"chips": _as_input(chips[:1])})  # warm up
        runs = [_timed(partial(_onnx_descriptor, session), _as_input([chip])) for chip in chips]
        key = "onnx_ms_median" if threads == 0 else f"onnx_ms_median_threads{threads}"
        result[key] = round(statistics.median(ms for _, ms in runs), 2)
        if threads == 0:
            single = np.stack([descriptor for descriptor, _ in runs])
            batched = np.concatenate(
                [session.run(None, {"chips": _as_input(chips[i : i + 32])})[0] for i in range(0, len(chips), 32)]
            )
            result["max_abs_diff"] = float(np.abs(single - reference).max())
            result["batch32_max_abs_diff"] = float(np.abs(batched - reference).max())
            result["descriptor_abs_max"] = float(np.abs(reference).max())
    return result


# --------------------------------------------------------------------------------------------


def export(dat_path: Path, output: Path) -> Path:
    network = read_network(dat_path)
    print(describe(network.layers), file=sys.stderr)
    model = build_model(network)
    data = model.SerializeToString()
    output.write_bytes(data)
    print(f"{output}: {len(data)} bytes, sha256 {hashlib.sha256(data).hexdigest()}")
    return output


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dat", type=Path, help=f"the dlib model (default: face_recognition_models' {MODEL_FILE})")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    parser.add_argument("--check", type=Path, metavar="DIR", help="compare with dlib on the faces in DIR's images")
    args = parser.parse_args(argv)
    dat_path = args.dat or Path(model_file(MODEL_FILE))
    try:
        output = export(dat_path, args.output)
    except ValueError as exc:  # the parser names the byte where the file stopped making sense
        raise SystemExit(f"{dat_path} is not dlib's face recognition ResNet as expected: {exc}") from None
    if args.check:
        print(json.dumps(check(output, dat_path, args.check)))


if __name__ == "__main__":
    main()
