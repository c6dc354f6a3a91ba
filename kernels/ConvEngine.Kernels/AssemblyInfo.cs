using System.Runtime.CompilerServices;

// The tests check the cpu plumbing (worker threads, scratch, packing) directly, not only through the backend.
[assembly: InternalsVisibleTo("ConvEngine.Tests")]
