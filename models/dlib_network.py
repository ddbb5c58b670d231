"""dlib's face recognition ResNet read from its .dat file, without dlib: the layers and their weights.

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

Used by models/export_face_encoder.py, which writes the network as ONNX.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

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
