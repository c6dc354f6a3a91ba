using System.Runtime.CompilerServices;

// The tests check the shuffling, prefetching and label encoding directly, not only through the datasets.
[assembly: InternalsVisibleTo("ConvEngine.Tests")]
