"""What an ONNX file says of itself, read without the ``onnx`` package: its graph's inputs and
outputs (names and shapes) and its metadata, the fields :mod:`gincli.core.model_contract` checks.

Importing ``onnx`` took 0.9 s (its numpy dtype extensions load with it), and ``onnx.load``
parses every weight of the file: together half of a one-photo `gin inpaint`. These few fields
are read straight from the protobuf wire format of the mapped file, each weight skipped by its
length, in milliseconds whatever the model's size. The field numbers are onnx.proto's (stable
since ONNX 1.0).
"""

from __future__ import annotations

import mmap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# onnx.proto's field numbers, of the messages on the way to what is read
MODEL_GRAPH, MODEL_METADATA = 7, 14  # ModelProto.graph, .metadata_props
GRAPH_INPUT, GRAPH_OUTPUT = 11, 12  # GraphProto.input, .output
VALUE_NAME, VALUE_TYPE = 1, 2  # ValueInfoProto.name, .type
TYPE_TENSOR, TENSOR_SHAPE, SHAPE_DIM = 1, 2, 1  # TypeProto.tensor_type, Tensor.shape, TensorShapeProto.dim
DIM_VALUE, DIM_PARAM = 1, 2  # TensorShapeProto.Dimension.dim_value, .dim_param
ENTRY_KEY, ENTRY_VALUE = 1, 2  # StringStringEntryProto.key, .value

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5  # the wire types a field can have

Shape = list[int | str]  # per dimension its size, or its symbolic name ("?" where it has neither)


@dataclass(frozen=True)
class OnnxHeader:
    inputs: dict[str, Shape]
    outputs: dict[str, Shape]
    metadata: dict[str, str]


def read_onnx_header(path: str | Path) -> OnnxHeader:
    """The inputs, outputs and metadata of the ONNX model in ``path``. Raises ``ValueError``
    saying what is wrong where the file is no protobuf message, or ends inside one; ``OSError``
    where it cannot be read."""
    with open(path, "rb") as file:
        if not file.seek(0, 2):
            raise ValueError("the file is empty")
        with mmap.mmap(file.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
            data = memoryview(mapped)
            try:
                return _header(data)
            finally:
                data.release()  # before the map closes: a view outliving it would keep it open


def _header(data: memoryview) -> OnnxHeader:
    inputs: dict[str, Shape] = {}
    outputs: dict[str, Shape] = {}
    metadata: dict[str, str] = {}
    for field, value in _fields(data, 0, len(data)):
        if field == MODEL_GRAPH:
            for graph_field, info in _fields(data, *_span(value)):
                if graph_field in (GRAPH_INPUT, GRAPH_OUTPUT):
                    name, shape = _value_info(data, _span(info))
                    (inputs if graph_field == GRAPH_INPUT else outputs)[name] = shape
        elif field == MODEL_METADATA:
            entry = dict(_fields(data, *_span(value)))
            metadata[_text(data, entry.get(ENTRY_KEY))] = _text(data, entry.get(ENTRY_VALUE))
    return OnnxHeader(inputs, outputs, metadata)


def _value_info(data: memoryview, span: tuple[int, int]) -> tuple[str, Shape]:
    """(name, shape) of a ValueInfoProto: its tensor type's dimensions, none for other types."""
    tensor = _field(data, _field(data, span, VALUE_TYPE), TYPE_TENSOR)
    shape = _field(data, tensor, TENSOR_SHAPE)
    dims = [_dimension(data, _span(dim)) for field, dim in _fields(data, *shape) if field == SHAPE_DIM]
    return _text(data, _field(data, span, VALUE_NAME)), dims


def _field(data: memoryview, span: tuple[int, int], number: int) -> tuple[int, int]:
    """The span of field ``number`` of the message at ``span`` (its last, as protobuf reads a
    field given twice); an empty one where the field is missing, as an empty message is read."""
    found = (0, 0)
    for field, value in _fields(data, *span):
        if field == number:
            found = _span(value)
    return found


def _dimension(data: memoryview, span: tuple[int, int]) -> int | str:
    size: int | str = "?"
    for field, value in _fields(data, *span):
        if field == DIM_VALUE:  # an int64: a negative one comes as its 64-bit two's complement
            size = int(value) - (1 << 64) * (int(value) >= 1 << 63)  # type: ignore[arg-type]
        elif field == DIM_PARAM and size == "?":
            size = _text(data, value) or "?"
    return size


def _fields(data: memoryview, start: int, end: int) -> Iterator[tuple[int, int | tuple[int, int] | None]]:
    """(field number, value) of each field of the message in ``data[start:end]``: a varint's
    value, a length-delimited field's (start, end) in ``data``, None for fixed-size ones."""
    position = start
    while position < end:
        key, position = _varint(data, position, end)
        field, wire = key >> 3, key & 7
        value: int | tuple[int, int] | None = None
        if wire == VARINT:
            value, position = _varint(data, position, end)
        elif wire == LENGTH_DELIMITED:
            length, position = _varint(data, position, end)
            value, position = (position, position + length), position + length
        elif wire in (FIXED64, FIXED32):
            position += 8 if wire == FIXED64 else 4
        else:
            raise ValueError(f"byte {position}: wire type {wire}, which no ONNX field has")
        if position > end:
            raise ValueError(f"field {field} runs past the end of its message (to byte {position} of {end}): "
                             "the file is cut short or damaged")  # fmt: skip
        yield field, value


def _varint(data: memoryview, position: int, end: int) -> tuple[int, int]:
    """(the base-128 integer at ``position``, the position after it)."""
    value = shift = 0
    while position < end and shift < 70:
        byte = data[position]
        position += 1
        value |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return value, position
        shift += 7
    raise ValueError(f"byte {position}: an integer runs past its field's end")


def _span(value: int | tuple[int, int] | None) -> tuple[int, int]:
    if not isinstance(value, tuple):
        raise ValueError("a message field holds a number")
    return value


def _text(data: memoryview, value: int | tuple[int, int] | None) -> str:
    if value is None:
        return ""
    start, end = _span(value)
    return bytes(data[start:end]).decode("utf-8", errors="replace")
