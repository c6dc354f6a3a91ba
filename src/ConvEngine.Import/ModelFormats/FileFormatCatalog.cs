namespace ConvEngine.Import.ModelFormats;

/// <summary>One file format: what the engine reads from it, what it writes, and what it refuses.</summary>
public sealed record FileFormatInfo(string Name, string Recognised, string Reads, string Writes, string Refuses);

/// <summary>Every model and weights format the engine knows, for `convengine weights list` and the README.</summary>
public static class FileFormatCatalog
{
    /// <summary>The formats, engine model first.</summary>
    public static IReadOnlyList<FileFormatInfo> Formats { get; } =
    [
        new("Engine model", "a folder with config.json (+ model.safetensors), or that config.json (\"format\": \"convengine.model\")",
            "architecture, weights, training config", "Model.Save, `convengine train`",
            "a weights tensor missing, extra or of another shape"),
        new("safetensors", "8-byte header length + JSON header", "F32 weights by path (\"conv2d/kernel\")", "Model.SaveWeights, checkpoints",
            "other dtypes; a header or data that does not fit the file"),
        new("Keras 2 HDF5", "HDF5 signature with layer_names (tf.keras 2 and Keras 1 names; model_weights/ + model_config for full models)",
            "weights (by name or in order); full-model .h5: the architecture too", "-",
            "non-float32 datasets; sizes beyond the file; a layer class the engine lacks"),
        new("Keras 3 .weights.h5", "HDF5 signature with layers/…/vars (or tf.keras 2.13's _layer_checkpoint_dependencies)",
            "weights by Keras 3's paths, or by the vars groups' name attribute", "KerasFiles.SaveWeights",
            "non-float32 variables, numbered variables with gaps, groups matching no layer"),
        new("Keras 3 .keras", "a zip (PK) holding config.json, metadata.json, model.weights.h5",
            "architecture (module/registered_name, dtype policies, build_config…) and weights", "KerasFiles.Save, `convengine export --to keras`",
            "a zip without those members; npz weights; members larger than declared or than deflate can expand"),
        new("Keras JSON", "a JSON object with class_name Sequential/Functional/Model (to_json, Keras 2.2–3 spellings)",
            "architecture (weights from --weights, else random)", "the engine's config.json is this form",
            "a layer class the engine lacks (named with its class and the file); dangling or cyclic graphs; shared layers"),
        new("TF.js Layers", "a JSON object with modelTopology / weightsManifest (format layers-model)",
            "architecture and weights: float32, int32, bool; uint8/uint16 affine and float16 quantisation; grouped shards", "-",
            "graph-model files; string/complex weights; unknown quantisations; missing, short or oversized shards; remote shard URLs"),
        new("ONNX", "protobuf ModelProto (.onnx or anything that parses as one)",
            "inference graph (OnnxImporter) or engine layers (OnnxToModel)", "`convengine export --to onnx` (opset 13, NCHW)",
            "operators or attribute values without a translation (named); layers without one on export (named)"),
        new("NumPy .npy", "\\x93NUMPY", "float32 C-order inputs for predict", "predict --save-outputs", "other dtypes, Fortran order"),
    ];
}
