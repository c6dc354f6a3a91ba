#!/usr/bin/python3
"""Writes Keras 3 files (.keras and .weights.h5) with h5py -- the HDF5 library Keras itself writes through -- from
the TensorFlow.js fixtures (tests/tfjs/models.mjs), so that the tests can check ConvEngine's Keras 3 reader against
the predictions tfjs recorded for the same weights.

The layout follows Keras 3's saving_lib (keras/src/saving/saving_lib.py, read for the rules, nothing copied):
  .keras    a zip (stored, not deflated) of metadata.json {"keras_version", "date_saved"}, config.json (the
            serialize_keras_object form: module / class_name / config / registered_name, DTypePolicy objects,
            initializers with their module, InputLayer "batch_shape", functional calls as {"args", "kwargs"} with
            __keras_tensor__ arguments, build_config) and model.weights.h5.
  weights   every saveable's variables in a "vars" group at its path, datasets "0", "1", ... (trainable variables,
            then non-trainable ones); Keras >= 3.6 also makes a "vars" group with the object's name as attribute
            "name" for objects without variables. Layers of a model sit under layers/<entry>, <entry> being the
            snake_case of the class made unique in the order of model.layers (conv2d, conv2d_1, ...), which for a
            functional model is by depth from the output (deepest first), ties by a depth-first walk from the output
            taking each call's inputs in order. The entries below are worked out by hand from those rules.

Variants: <name>.keras and <name>.weights.h5 (Keras >= 3.6, with names); sequential_cnn- and
functional_depth_order-keras30.weights.h5 (Keras 3.0-3.5: no name attributes, no groups for layers without variables); functional_branches-tf213.weights.h5
(tf.keras 2.13-2.15's .keras layout, "_layer_checkpoint_dependencies" in place of "layers").

Needs Debian's python3-h5py (apt-get install python3-h5py); run: /usr/bin/python3 tests/keras3/make_fixtures.py
"""
import datetime
import io
import json
import os
import zipfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
TFJS = os.path.join(HERE, "..", "ConvEngine.Tests", "Fixtures", "tfjs", "models")
OUT = os.path.join(HERE, "..", "ConvEngine.Tests", "Fixtures", "keras3")

# tfjs layer name -> Keras 3 weights path, worked out by hand from the rules above.
PATHS = {
    # Sequential: model.layers leaves out the InputLayer; entries in add order.
    "sequential_cnn": {
        "conv2d_Conv2D1": "layers/conv2d",
        "max_pooling2d_MaxPooling2D1": "layers/max_pooling2d",
        "conv2d_Conv2D2": "layers/conv2d_1",
        "batch_normalization_BatchNormalization1": "layers/batch_normalization",
        "average_pooling2d_AveragePooling2D1": "layers/average_pooling2d",
        "flatten_Flatten1": "layers/flatten",
        "dropout_Dropout1": "layers/dropout",
        "dense_Dense1": "layers/dense",
        "dense_Dense2": "layers/dense_1",
    },
    # depth from the output: dense 0, gap 1, concat 2, inner_block 3, add 4, both convs 5, input 6;
    # the walk from the output meets conv2d_Conv2D9 (Add's first input) before conv2d_Conv2D10.
    "functional_branches": {
        "input1": "layers/input_layer",
        "conv2d_Conv2D9": "layers/conv2d",
        "conv2d_Conv2D10": "layers/conv2d_1",
        "add_Add1": "layers/add",
        "inner_block": "layers/sequential",
        "zero_padding2d_ZeroPadding2D1": "layers/sequential/layers/zero_padding2d",
        "conv2d_Conv2D11": "layers/sequential/layers/conv2d",
        "batch_normalization_BatchNormalization5": "layers/sequential/layers/batch_normalization",
        "activation_Activation1": "layers/sequential/layers/activation",
        "concatenate_Concatenate1": "layers/concatenate",
        "global_average_pooling2d_GlobalAveragePooling2D1": "layers/global_average_pooling2d",
        "dense_Dense9": "layers/dense",
    },
    # depth: head 0, pool 1, sum 2, conv_b 3, conv_a2 3, conv_a 4, input 5; at depth 3 the walk meets conv_b (Add's
    # first input) before conv_a2. So conv_a is conv2d, conv_b conv2d_1, conv_a2 conv2d_2 -- not the order a plain
    # topological sort visiting conv_b's branch first would give.
    "functional_depth_order": {
        "input31": "layers/input_layer",
        "conv_a": "layers/conv2d",
        "conv_b": "layers/conv2d_1",
        "conv_a2": "layers/conv2d_2",
        "sum": "layers/add",
        "pool": "layers/global_average_pooling2d",
        "head": "layers/dense",
    },
}


def policy():
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"}, "registered_name": None}


def initializer(value):
    if not isinstance(value, dict):
        return value
    name = {"VarianceScaling": "GlorotNormal"}.get(value["class_name"], value["class_name"])
    config = {"seed": None} if name == "GlorotNormal" else value.get("config", {})
    return {"module": "keras.initializers", "class_name": name, "config": config, "registered_name": None}


def tensor(name, shape):
    return {"class_name": "__keras_tensor__", "config": {"shape": shape, "dtype": "float32", "keras_history": [name, 0, 0]}}


def keras3_layer(entry, shapes, functional):
    """One layer (or nested model) of a tfjs topology in Keras 3's spelling."""
    cls = entry["class_name"]
    cfg = dict(entry["config"])
    name = cfg["name"]
    if cls in ("Sequential", "Model", "Functional"):
        out = keras3_model(entry, shapes)
    elif cls == "InputLayer":
        batch = cfg.get("batch_input_shape")
        out = {"module": "keras.layers", "class_name": "InputLayer",
               "config": {"batch_shape": batch, "dtype": "float32", "sparse": False, "name": name}, "registered_name": None}
    else:
        cfg.pop("batch_input_shape", None)
        cfg["dtype"] = policy()
        for key in list(cfg):
            if key.endswith("_initializer"):
                cfg[key] = initializer(cfg[key])
        if cls == "Conv2D":
            cfg.setdefault("groups", 1)
        out = {"module": "keras.layers", "class_name": cls, "config": cfg, "registered_name": None,
               "build_config": {"input_shape": shapes[name]["input"]}}
    if functional:
        out["name"] = name
        calls = []
        for call in entry.get("inbound_nodes", []):
            args = [tensor(ref[0], shapes[ref[0]]["output"]) for ref in call]
            calls.append({"args": args if len(args) == 1 else [args], "kwargs": {}})
        out["inbound_nodes"] = calls
    return out


def keras3_model(topology, shapes):
    cls = topology["class_name"]
    cfg = topology["config"]
    if cls == "Sequential":
        layers = cfg["layers"]
        first = layers[0]
        if first["class_name"] == "InputLayer":
            input_shape = first["config"]["batch_input_shape"]
            rest = layers[1:]
        else:
            input_shape = first["config"]["batch_input_shape"]
            rest = layers
        converted = [{"module": "keras.layers", "class_name": "InputLayer",
                      "config": {"batch_shape": input_shape, "dtype": "float32", "sparse": False, "name": cfg["name"] + "_input"},
                      "registered_name": None}]
        converted += [keras3_layer(layer, shapes, functional=False) for layer in rest]
        return {"module": "keras", "class_name": "Sequential",
                "config": {"name": cfg["name"], "trainable": True, "dtype": policy(), "layers": converted, "build_input_shape": input_shape},
                "registered_name": None, "build_config": {"input_shape": input_shape}}
    layers = [keras3_layer(layer, shapes, functional=True) for layer in cfg["layers"]]
    single = lambda refs: [refs[0][0], 0, 0] if len(refs) == 1 else [[r[0], 0, 0] for r in refs]
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": {"name": cfg["name"], "trainable": True, "layers": layers,
                       "input_layers": single(cfg["input_layers"]), "output_layers": single(cfg["output_layers"])},
            "registered_name": "Functional", "build_config": {"input_shape": None}}


def tfjs_weights(model_dir):
    """name -> float32 array, from an unquantised tfjs model.json and its shards (groups in order)."""
    manifest = json.load(open(os.path.join(model_dir, "model.json")))["weightsManifest"]
    out = {}
    for group in manifest:
        data = b"".join(open(os.path.join(model_dir, p), "rb").read() for p in group["paths"])
        offset = 0
        for w in group["weights"]:
            assert w["dtype"] == "float32" and "quantization" not in w
            n = int(np.prod(w["shape"])) if w["shape"] else 1
            out[w["name"]] = np.frombuffer(data, "<f4", n, offset).reshape(w["shape"])
            offset += 4 * n
    return out


def layer_weights(topology):
    """(tfjs layer name, class, [weight role names]) for every layer, nested models included."""
    roles = {"Conv2D": ["kernel", "bias"], "Dense": ["kernel", "bias"],
             "BatchNormalization": ["gamma", "beta", "moving_mean", "moving_variance"]}
    result = []
    for layer in topology["config"]["layers"]:
        cls = layer["class_name"]
        name = layer["config"]["name"]
        if cls in ("Sequential", "Model"):
            result.append((name, cls, []))
            result += layer_weights(layer)
        else:
            cfg = layer["config"]
            names = [r for r in roles.get(cls, []) if not (r == "bias" and cfg.get("use_bias") is False)
                     and not (r == "gamma" and cfg.get("scale") is False) and not (r == "beta" and cfg.get("center") is False)]
            result.append((name, cls, names))
    return result


def write_weights(target, model, paths, weights, topology, names=True, empty_groups=True, layers_group="layers"):
    with h5py.File(target, "w") as f:
        if empty_groups or names:
            root = f.create_group("vars")
            if names:
                root.attrs["name"] = topology["config"]["name"]
        for name, cls, roles in layer_weights(topology):
            if name not in paths:        # the Sequential's InputLayer is not among model.layers
                continue
            if not roles and not empty_groups:
                continue
            group = f.create_group(paths[name].replace("layers", layers_group) + "/vars")
            if names:
                group.attrs["name"] = name
            for i, role in enumerate(roles):
                group[str(i)] = weights[f"{name}/{role}"]


def main():
    os.makedirs(OUT, exist_ok=True)
    for model, paths in PATHS.items():
        src = os.path.join(TFJS, model)
        topology = json.load(open(os.path.join(src, "model.json")))["modelTopology"]
        shapes = json.load(open(os.path.join(src, "expected.json")))["layer_shapes"]
        weights = tfjs_weights(src)
        config = keras3_model(topology, shapes)
        h5 = io.BytesIO()
        write_weights(h5, model, paths, weights, topology)
        metadata = {"keras_version": "3.15.1", "date_saved": datetime.datetime(2026, 12, 3, 12, 0, 0).strftime("%Y-%m-%d@%H:%M:%S")}
        with zipfile.ZipFile(os.path.join(OUT, f"{model}.keras"), "w") as zf:
            zf.writestr("metadata.json", json.dumps(metadata))
            zf.writestr("config.json", json.dumps(config))
            zf.writestr("model.weights.h5", h5.getvalue())
        write_weights(os.path.join(OUT, f"{model}.weights.h5"), model, paths, weights, topology)
        if model == "sequential_cnn":
            write_weights(os.path.join(OUT, f"{model}-keras30.weights.h5"), model, paths, weights, topology, names=False, empty_groups=False)
        if model == "functional_depth_order":
            write_weights(os.path.join(OUT, f"{model}-keras30.weights.h5"), model, paths, weights, topology, names=False, empty_groups=False)
        if model == "functional_branches":
            write_weights(os.path.join(OUT, f"{model}-tf213.weights.h5"), model, paths, weights, topology,
                          names=False, empty_groups=False, layers_group="_layer_checkpoint_dependencies")
        print(model, "->", ", ".join(sorted(set(paths.values()))))


main()
