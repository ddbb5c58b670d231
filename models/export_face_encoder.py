"""Export dlib's face recognition ResNet to ONNX (`models/face_encoder.onnx`) by parsing its .dat file.

Run: `.venv/bin/python models/export_face_encoder.py [--output OUT.onnx] [--check DIR]`.
Exporting needs numpy and onnx (and finds the .dat through edge); `--check` also runs dlib and onnxruntime.
Nothing is downloaded.

The source is `dlib_face_recognition_resnet_model_v1.dat` from the face_recognition_models package:
dlib's own binary serialisation of `anet_type` in dlib's examples/dnn_face_recognition_ex.cpp,

    loss_metric<fc_no_bias<128, avg_pool_everything<alevel0<alevel1<alevel2<alevel3<alevel4<
        max_pool<3,3,2,2, relu<affine<con<32,7,7,2,2, input_rgb_image_sized<150>>>>>>>>>>>>>

The file is read here without dlib, following dlib's serialisation code (dlib/serialize.h,
dlib/dnn/core.h, layers.h, input.h, loss.h, cuda/tensor.h):
- integers (any width, signed or not): one control byte (low nibble = byte count 1..8, bit 0x80 =
  negative), then that many bytes of the magnitude, little-endian;
- float/double scalars: `float_details`, a mantissa (int64) and an exponent (int16), both as above,
  value = mantissa * 2**exponent; bool: the character '0' or '1'; string: length, then the bytes;
- tensors: version 2, num_samples, k, nr, nc, then raw little-endian float32 values;
  alias tensors (views into a layer's params): version 1 and the four dimensions, no data;
- `add_loss_layer`: version 1, the loss details ("loss_metric_2", margin, distance threshold),
  then the layer stack. `add_layer` writes its version, then the layer below it, then its own
  details and some empty training buffers, so the file holds every layer's version from the top
  of the stack down, the input layer, then every layer's details from the bottom up. Tag and skip
  layers write only their version (1). Each layer's details start with a version string
  ("con_4", "affine_", "relu_", "max_pool_2", "avg_pool_2", "add_prev_", "fc_2", ...).

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
import math
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
import onnx
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

# float_details exponents that stand for the special values (dlib/float_details.h).
_FLOAT_INF, _FLOAT_NINF, _FLOAT_NAN = 32000, 32001, 32002


# --------------------------------------------------------------------------------------------
# dlib's serialisation primitives


class DlibReader:
    """Reads dlib's serialised values from the bytes of a .dat file, in order."""

    def __init__(self, data: bytes) -> None:
        self._data = data
        self._pos = 0

    def _take(self, count: int) -> bytes:
        if self._pos + count > len(self._data):
            raise ValueError(f"unexpected end of file at byte {self._pos}")
        chunk = self._data[self._pos : self._pos + count]
        self._pos += count
        return chunk

    def at_end(self) -> bool:
        return self._pos == len(self._data)

    @property
    def position(self) -> int:
        return self._pos

    def int(self) -> int:
        control = self._take(1)[0]
        size = control & 0x0F
        if not 1 <= size <= 8 or control & 0x70:
            raise ValueError(f"bad integer control byte {control:#x} at byte {self._pos - 1}")
        value = int.from_bytes(self._take(size), "little")
        return -value if control & 0x80 else value

    def float(self) -> float:
        # A first byte with any of the bits 0x70 set would be dlib's pre-2013 ASCII float format.
        if self._data[self._pos] & 0x70:
            raise ValueError(f"old ASCII float format at byte {self._pos}; not supported")
        mantissa, exponent = self.int(), self.int()
        if exponent == _FLOAT_INF:
            return math.inf
        if exponent == _FLOAT_NINF:
            return -math.inf
        if exponent == _FLOAT_NAN:
            return math.nan
        return math.ldexp(mantissa, exponent)

    def bool(self) -> bool:
        char = self._take(1)
        if char not in (b"0", b"1"):
            raise ValueError(f"bad bool {char!r} at byte {self._pos - 1}")
        return char == b"1"

    def string(self) -> str:
        return self._take(self.int()).decode("ascii")

    def version(self, *allowed: str) -> str:
        """A layer's version string, which also names the layer: the check that we are in step."""
        at = self._pos
        found = self.string()
        if found not in allowed:
            raise ValueError(f"expected one of {allowed} at byte {at}, found {found!r}")
        return found

    def tensor(self) -> np.ndarray:
        if (version := self.int()) != 2:
            raise ValueError(f"unexpected tensor version {version} at byte {self._pos}")
        shape = tuple(self.int() for _ in range(4))
        count = math.prod(shape)
        return np.frombuffer(self._take(4 * count), dtype="<f4").astype(np.float32).reshape(shape)

    def alias_tensor(self) -> tuple[int, int, int, int]:
        """An alias tensor is only a shape: which part of the layer's params tensor it views."""
        if (version := self.int()) != 1:
            raise ValueError(f"unexpected alias_tensor version {version} at byte {self._pos}")
        n, k, nr, nc = (self.int() for _ in range(4))
        return n, k, nr, nc


# --------------------------------------------------------------------------------------------
# The network's layers, as anet_type declares them


class Spec(NamedTuple):
    """One layer of anet_type. params: con (filters, size, stride), pools (window, stride; window 0 =
    the whole map), fc (outputs,), tag/skip/add_prev (tag id,)."""

    kind: str
    params: tuple[int, ...] = ()


def _block(filters: int, stride: int) -> list[Spec]:
    """block<N,affine,stride> = affine<con<N,3,3,1,1, relu<affine<con<N,3,3,stride,stride, SUBNET>>>>>."""
    return [
        Spec("affine"), Spec("con", (filters, 3, 1)), Spec("relu"),
        Spec("affine"), Spec("con", (filters, 3, stride)),
    ]  # fmt: skip


def _ares(filters: int) -> list[Spec]:
    """ares<N> = relu<add_prev1<block<N,1, tag1<SUBNET>>>>."""
    return [Spec("relu"), Spec("add_prev", (1,)), *_block(filters, 1), Spec("tag", (1,))]


def _ares_down(filters: int) -> list[Spec]:
    """ares_down<N> = relu<add_prev2<avg_pool<2,2,2,2, skip1<tag2<block<N,2, tag1<SUBNET>>>>>>>>."""
    return [
        Spec("relu"), Spec("add_prev", (2,)), Spec("avg_pool", (2, 2)), Spec("skip", (1,)), Spec("tag", (2,)),
        *_block(filters, 2), Spec("tag", (1,)),
    ]  # fmt: skip


def anet_specs() -> list[Spec]:
    """anet_type below its loss layer, from the top down to the layer on the input (the file's order)."""
    levels = [
        *_ares_down(256),  # alevel0
        *_ares(256), *_ares(256), *_ares_down(256),  # alevel1
        *_ares(128), *_ares(128), *_ares_down(128),  # alevel2
        *_ares(64), *_ares(64), *_ares(64), *_ares_down(64),  # alevel3
        *_ares(32), *_ares(32), *_ares(32),  # alevel4
    ]  # fmt: skip
    return [
        Spec("fc", (128,)), Spec("avg_pool", (0, 1)), *levels,
        Spec("max_pool", (3, 2)), Spec("relu"), Spec("affine"), Spec("con", (32, 7, 2)),
    ]  # fmt: skip


# --------------------------------------------------------------------------------------------
# Parsed layers


@dataclass(frozen=True)
class InputLayer:
    mean: tuple[float, float, float]  # red, green, blue
    rows: int
    cols: int


@dataclass(frozen=True)
class Conv:
    weights: np.ndarray  # (out, in, rows, cols), dlib's filter layout, also ONNX's
    bias: np.ndarray | None
    stride: tuple[int, int]
    padding: tuple[int, int]
    relu: bool = False  # con_6 can fuse a relu


@dataclass(frozen=True)
class Affine:
    gamma: np.ndarray  # broadcastable to (channels, rows, cols)
    beta: np.ndarray
    per_channel: bool  # dlib's CONV_MODE


@dataclass(frozen=True)
class Relu:
    pass


@dataclass(frozen=True)
class Pool:
    kind: str  # "max" or "avg"
    window: tuple[int, int]  # (0, 0): the whole map
    stride: tuple[int, int]
    padding: tuple[int, int]


@dataclass(frozen=True)
class Dense:
    weights: np.ndarray  # (inputs, outputs): dlib's fc_ computes input @ weights
    bias: np.ndarray | None


@dataclass(frozen=True)
class Tag:
    id: int


@dataclass(frozen=True)
class Skip:
    id: int


@dataclass(frozen=True)
class AddPrev:
    id: int


Layer = Conv | Affine | Relu | Pool | Dense | Tag | Skip | AddPrev


@dataclass(frozen=True)
class Network:
    input: InputLayer
    layers: list[Layer]  # bottom (next to the input) to top (the descriptor)


def _default_padding(size: int, stride: int) -> int:
    """dlib's con_/max_pool_/avg_pool_ default: size/2 for stride 1, else 0 (which the file must match)."""
    return size // 2 if stride == 1 else 0


def _read_conv(reader: DlibReader, spec: Spec) -> Conv:
    version = reader.version("con_4", "con_5", "con_6")
    params = reader.tensor().ravel()
    filters, size, stride = spec.params
    num_filters, nr, nc, stride_y, stride_x, pad_y, pad_x = (reader.int() for _ in range(7))
    filter_shape = reader.alias_tensor()
    bias_shape = reader.alias_tensor()
    for _ in range(4):  # learning rate and weight decay multipliers
        reader.float()
    use_bias = reader.bool() if version in ("con_5", "con_6") else True
    use_relu = reader.bool() if version == "con_6" else False
    padding = _default_padding(size, stride)
    expected = (filters, size, size, stride, stride, padding, padding)
    if (num_filters, nr, nc, stride_y, stride_x, pad_y, pad_x) != expected:
        raise ValueError(f"con layer {num_filters}x{nr}x{nc}/{stride_y} pad {pad_y} does not match {spec}")
    weight_count, bias_count = math.prod(filter_shape), math.prod(bias_shape) if use_bias else 0
    if params.size != weight_count + bias_count or filter_shape[0] != filters:
        raise ValueError(f"con params hold {params.size} values, filters {filter_shape}, biases {bias_shape}")
    return Conv(
        weights=params[:weight_count].reshape(filter_shape),
        bias=params[weight_count:] if bias_count else None,
        stride=(stride_y, stride_x),
        padding=(pad_y, pad_x),
        relu=use_relu,
    )


def _read_affine(reader: DlibReader) -> Affine:
    # A bn_ layer ("bn_con2"/"bn_fc2") can also stand in an affine_'s place; this file has none.
    version = reader.version("affine_", "affine_2")
    params = reader.tensor().ravel()
    gamma_shape, beta_shape = reader.alias_tensor(), reader.alias_tensor()
    mode = reader.int()
    disabled = reader.bool() if version == "affine_2" else False
    count = math.prod(gamma_shape)
    if gamma_shape != beta_shape or params.size != 2 * count:
        raise ValueError(f"affine params {params.size} vs gamma {gamma_shape}, beta {beta_shape}")
    if disabled:
        raise ValueError("disabled affine layers are not handled")
    # CONV_MODE (0): gamma is (1, k): one scale per channel. FC_MODE (1): one per value.
    shape = (gamma_shape[1], 1, 1) if mode == 0 else gamma_shape[1:]
    return Affine(gamma=params[:count].reshape(shape), beta=params[count:].reshape(shape), per_channel=mode == 0)


def _read_relu(reader: DlibReader) -> Relu:
    version = reader.version("relu_", "relu_2")
    if version == "relu_2" and reader.bool():
        raise ValueError("disabled relu layers are not handled")
    return Relu()


def _read_pool(reader: DlibReader, spec: Spec) -> Pool:
    kind = spec.kind.removesuffix("_pool")
    reader.version(f"{kind}_pool_2")
    nr, nc, stride_y, stride_x, pad_y, pad_x = (reader.int() for _ in range(6))
    window, stride = spec.params
    padding = _default_padding(window, stride)
    if (nr, nc, stride_y, stride_x, pad_y, pad_x) != (window, window, stride, stride, padding, padding):
        raise ValueError(f"{spec.kind} {nr}x{nc}/{stride_y} pad {pad_y} does not match {spec}")
    return Pool(kind=kind, window=(nr, nc), stride=(stride_y, stride_x), padding=(pad_y, pad_x))


def _read_dense(reader: DlibReader, spec: Spec) -> Dense:
    version = reader.version("fc_2", "fc_3")
    outputs, inputs = reader.int(), reader.int()
    params = reader.tensor().ravel()
    weight_shape, bias_shape = reader.alias_tensor(), reader.alias_tensor()
    bias_mode = reader.int()  # FC_HAS_BIAS = 0, FC_NO_BIAS = 1
    for _ in range(4):  # learning rate and weight decay multipliers
        reader.float()
    use_bias = (reader.bool() if version == "fc_3" else True) and bias_mode == 0
    bias_count = outputs if use_bias else 0
    sizes_agree = weight_shape[:2] == (inputs, outputs) and params.size == inputs * outputs + bias_count
    if outputs != spec.params[0] or not sizes_agree:
        raise ValueError(f"fc {inputs}->{outputs}: {params.size} params, weights {weight_shape}, biases {bias_shape}")
    weights = params[: inputs * outputs].reshape(inputs, outputs)
    return Dense(weights=weights, bias=params[inputs * outputs :] if use_bias else None)


def _read_details(reader: DlibReader, spec: Spec) -> Layer:
    if spec.kind == "con":
        return _read_conv(reader, spec)
    if spec.kind == "affine":
        return _read_affine(reader)
    if spec.kind == "relu":
        return _read_relu(reader)
    if spec.kind in ("max_pool", "avg_pool"):
        return _read_pool(reader, spec)
    if spec.kind == "fc":
        return _read_dense(reader, spec)
    if spec.kind == "add_prev":
        reader.version("add_prev_")
        return AddPrev(spec.params[0])
    raise ValueError(f"no reader for {spec}")


def _read_input(reader: DlibReader) -> InputLayer:
    reader.version("input_rgb_image_sized")
    red, green, blue = reader.float(), reader.float(), reader.float()
    return InputLayer(mean=(red, green, blue), rows=reader.int(), cols=reader.int())


def _skip_training_buffers(reader: DlibReader, version: int, on_input: bool) -> None:
    """What add_layer writes after a layer's details: three flags and buffers used only in training."""
    for _ in range(3):  # this_layer_setup_called, gradient_input_is_stale, get_output_and_gradient_input_disabled
        reader.bool()
    reader.tensor()  # x_grad
    reader.tensor()  # cached_output
    if on_input:
        reader.tensor()  # grad_final
        if version >= 3:
            reader.int()  # _sample_expansion_factor
    elif version == 2:
        reader.tensor()  # params_grad


def read_network(path: Path) -> Network:
    data = path.read_bytes()
    reader = DlibReader(data)
    if (version := reader.int()) != 1:
        raise ValueError(f"unexpected add_loss_layer version {version}")
    if reader.version("loss_metric_", "loss_metric_2") == "loss_metric_2":
        _margin, _distance_threshold = reader.float(), reader.float()  # used only in training
    specs = anet_specs()
    # The stack's versions come first, from the top down; the bottom add_layer holds the input layer.
    versions = []
    for index, spec in enumerate(specs):
        version = reader.int()
        allowed = (1,) if spec.kind in ("tag", "skip") else (2, 3) if index == len(specs) - 1 else (1, 2)
        if version not in allowed:
            raise ValueError(f"layer {index} ({spec.kind}): version {version}, expected {allowed}")
        versions.append(version)
    input_layer = _read_input(reader)
    layers: list[Layer] = []
    for index in reversed(range(len(specs))):  # the details come from the bottom up
        spec = specs[index]
        if spec.kind == "tag":
            layers.append(Tag(spec.params[0]))
        elif spec.kind == "skip":
            layers.append(Skip(spec.params[0]))
        else:
            layers.append(_read_details(reader, spec))
            _skip_training_buffers(reader, versions[index], on_input=index == len(specs) - 1)
    if not reader.at_end():
        raise ValueError(f"{len(data) - reader.position} bytes left after the network")
    return Network(input=input_layer, layers=layers)


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
