// Re-creates fashion-mnist-shoes/ from Debian's dataset-fashion-mnist files (see README.md here).
// Run from the repository root: dotnet run src/ConvEngine.Data/SampleData/export.cs [idx-dir] [out-dir]
#:project ../ConvEngine.Data.csproj
using ConvEngine.Data;
using ConvEngine.Data.Idx;

string idxDir = args.Length > 0 ? args[0] : FashionMnist.DefaultDirectory;
string outDir = args.Length > 1 ? args[1] : Path.Combine("src", "ConvEngine.Data", "SampleData", SampleData.ShoesName);
int written = SampleDataExporter.ExportShoes(idxDir, outDir);
Console.WriteLine($"Wrote {written} images to {outDir}");
