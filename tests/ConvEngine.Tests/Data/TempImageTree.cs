using ConvEngine.Data.Images;

namespace ConvEngine.Tests.Data;

/// <summary>A temporary folder of tiny images that tests build and delete.</summary>
public sealed class TempImageTree : IDisposable
{
    public TempImageTree()
    {
        Root = Path.Combine(Path.GetTempPath(), "convengine-data-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Root);
    }

    public string Root { get; }

    public string PathOf(string relative) => Path.Combine(Root, relative);

    /// <summary>Writes a uniform grey image whose every pixel is <paramref name="value"/>, so a sample says which file it came from.</summary>
    public string Uniform(string relative, byte value, int height = 2, int width = 2) =>
        Rgb(relative, height, width, (_, _) => (value, value, value));

    /// <summary>Writes an RGB PNG with pixel (y, x) = <paramref name="pixel"/>(y, x).</summary>
    public string Rgb(string relative, int height, int width, Func<int, int, (byte R, byte G, byte B)> pixel)
    {
        var data = new float[height * width * 3];
        for (int y = 0; y < height; y++)
        for (int x = 0; x < width; x++)
        {
            var (r, g, b) = pixel(y, x);
            int o = (y * width + x) * 3;
            (data[o], data[o + 1], data[o + 2]) = (r, g, b);
        }
        string path = PathOf(relative);
        ImageIO.SavePng(path, data, height, width, 3);
        return path;
    }

    public string Text(string relative, string content)
    {
        string path = PathOf(relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        return path;
    }

    public void Folder(string relative) => Directory.CreateDirectory(PathOf(relative));

    public void Dispose()
    {
        try { Directory.Delete(Root, recursive: true); }
        catch (IOException) { }
    }
}
