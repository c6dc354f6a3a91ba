using System.Runtime.CompilerServices;

// The tool's types are not a library API (the command line is): internal, and visible to the tests and the fuzzer,
// which drive the commands and their settings directly.
[assembly: InternalsVisibleTo("ConvEngine.Tests")]
[assembly: InternalsVisibleTo("ConvEngine.Fuzz")]
