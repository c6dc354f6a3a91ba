using ConvEngine.Kernels;
using ConvEngine.Training;

namespace ConvEngine.Cli.Commands;

/// <summary>How train, evaluate and predict report bad input: one line on standard error naming what to fix, exit code 1.</summary>
internal static class CommandErrors
{
    /// <summary>
    /// Errors whose message is meant for the user (a missing file, an unreadable image, shapes that do not fit,
    /// an absent backend, a diverged loss, a layer or operator the engine lacks); anything else is a bug and keeps its stack trace.
    /// </summary>
    public static bool IsUserError(Exception e) =>
        e is ArgumentException or FormatException or IOException or InvalidDataException or UnauthorizedAccessException
            or BackendUnavailableException or TrainingDivergedException or MemoryLimitException
            // A layer class or ONNX operator the engine lacks (UnsupportedLayerException, OnnxUnsupportedException).
            or NotSupportedException;

    public static int Report(string command, Exception e)
    {
        Console.Error.WriteLine($"convengine {command}: {CommandLine.OneLine(e.Message)}");
        if (CommandLine.Debug) Console.Error.WriteLine(e.ToString());
        return 1;
    }
}
