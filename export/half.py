"""The fp16 graph of a verified fp32 graph, converted node by node instead of traced again.

Weights and arithmetic go to float16; the inputs and the output stay float32, and so do
the nodes that read the inputs and the final select that puts the input's own pixels
outside the hole: the mask is binarised as in the fp32 graph and valid pixels are still
the input's bits. Converting takes a fraction of a second where tracing the generator
again takes ten or more, and the fp16 graph has the fp32 graph's structure node for
node (initializer names included, so its weights can be read back).
"""

from __future__ import annotations

import onnx
from onnxruntime.transformers.float16 import convert_float_to_float16

from gincli.core.model_contract import OUTPUT


def half_precision_graph(model: onnx.ModelProto) -> onnx.ModelProto:
    """A float16 copy of ``model`` (an fp32 graph from ``gin export``) with float32 inputs and output."""
    inputs = {i.name for i in model.graph.input}
    # the nodes that read the inputs (the mask's threshold, the masked image) and the final select
    # stay float32: a mask value just under 0.5 must not round up to a hole, nor a valid pixel change
    float32_nodes = {n.name for n in model.graph.node if inputs & set(n.input) or OUTPUT in n.output}
    half = convert_float_to_float16(_copy(model), keep_io_types=True, node_block_list=sorted(float32_nodes))
    nodes = _without_repeats(half.graph.node)
    _collapse_round_trips(nodes, inputs | {out for n in nodes if n.name in float32_nodes for out in n.output})
    ordered = _topological_order(nodes, {i.name for i in half.graph.input} | {i.name for i in half.graph.initializer})
    del half.graph.node[:]
    half.graph.node.extend(ordered)
    produced = {out for node in ordered for out in node.output}
    kept_info = [v for v in half.graph.value_info if v.name in produced and v.name != OUTPUT]
    del half.graph.value_info[:]
    half.graph.value_info.extend(kept_info)
    return half


def _copy(model: onnx.ModelProto) -> onnx.ModelProto:
    copy = onnx.ModelProto()
    copy.CopyFrom(model)
    return copy


def _collapse_round_trips(nodes: list[onnx.NodeProto], float32_values: set[str]) -> None:
    """Where the converter casts a float32 value to float16 and straight back (the inputs into
    the float32 nodes, the composite out to the output), the value is used as it is: the round
    trip would round it. Casts left without a reader are dropped."""
    produced_by = {out: node for node in nodes for out in node.output}
    trips = {}  # a cast's output -> the float32 value it carries through float16
    for node in nodes:
        down = produced_by.get(node.input[0]) if node.op_type == "Cast" else None
        if (
            down is not None and down.op_type == "Cast" and down.input[0] in float32_values
            and _cast_target(node) == onnx.TensorProto.FLOAT and _cast_target(down) == onnx.TensorProto.FLOAT16
        ):  # fmt: skip
            trips[node.output[0]] = down.input[0]
    origin = trips.pop(OUTPUT, None)
    if origin is not None:  # the output's producer writes the output itself; the cast back goes
        nodes[:] = [n for n in nodes if OUTPUT not in n.output]
        trips = {name: OUTPUT if value == origin else value for name, value in trips.items()}
        for node in nodes:
            node.output[:] = [OUTPUT if name == origin else name for name in node.output]
            node.input[:] = [OUTPUT if name == origin else name for name in node.input]
    for node in nodes:
        node.input[:] = [trips.get(name, name) for name in node.input]
    while True:
        read = {name for node in nodes for name in node.input} | {OUTPUT}
        kept = [n for n in nodes if n.op_type != "Cast" or any(out in read for out in n.output)]
        if len(kept) == len(nodes):
            return
        nodes[:] = kept


def _cast_target(node: onnx.NodeProto) -> int:
    return next(a.i for a in node.attribute if a.name == "to")


def _without_repeats(nodes: list[onnx.NodeProto]) -> list[onnx.NodeProto]:
    """The converter adds one identical Cast per consumer of a shared value; one is kept."""
    seen: set[bytes] = set()
    kept = []
    for node in nodes:
        key = node.SerializeToString()
        if key not in seen:
            seen.add(key)
            kept.append(node)
    return kept


def _topological_order(nodes: list[onnx.NodeProto], available: set[str]) -> list[onnx.NodeProto]:
    """Nodes in an order where each follows the producers of its inputs (the converter appends its casts)."""
    known = set(available) | {""}  # "" is an omitted optional input
    ordered: list[onnx.NodeProto] = []
    pending = list(nodes)
    while pending:
        waiting = []
        for node in pending:
            if all(name in known for name in node.input):
                ordered.append(node)
                known.update(node.output)
            else:
                waiting.append(node)
        if len(waiting) == len(pending):
            raise ValueError(f"the fp16 graph has a cycle or a missing value at node {waiting[0].name}")
        pending = waiting
    return ordered
