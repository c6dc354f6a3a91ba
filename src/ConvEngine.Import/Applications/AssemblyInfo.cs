using System.Runtime.CompilerServices;

// The tests build InceptionV1 with stand-in layers while the engine lacks BatchNormalization and Concatenate.
[assembly: InternalsVisibleTo("ConvEngine.Tests")]
