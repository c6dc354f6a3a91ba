using System.Runtime.CompilerServices;

// The tests build InceptionV1 with stand-in layers while the engine lacks BatchNormalization and Concatenate; they, the
// fuzzer and the benchmarks also build ONNX files with the (internal) generated protobuf classes.
[assembly: InternalsVisibleTo("ConvEngine.Tests")]
[assembly: InternalsVisibleTo("ConvEngine.Fuzz")]
[assembly: InternalsVisibleTo("ConvEngine.Benchmarks")]
