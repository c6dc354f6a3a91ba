using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using ConvEngine.Data.Images;
using ConvEngine.Serialization;
using ConvEngine.Tests.Cli;
using NUnit.Framework;

namespace ConvEngine.Tests.Hardening;

/// <summary>
/// Every reproducer of ../shared/fuzz-repro (the bad inputs that crashed, exhausted memory, gave a silently wrong
/// answer or clobbered an output at 7d42523), run through the `convengine` entry point in-process. Each must now end
/// in a one-line message naming the file, exit code 1 (or, for valid files the old decoder mishandled, a correct
/// result), without allocating what the file merely declares, and without touching what it must not.
/// </summary>
[NonParallelizable] // swaps Console.Error and AnsiConsole.Console
public partial class FuzzReproducerTests
{
    private string _repro = null!, _work = null!, _model = null!, _small = null!;

    [OneTimeSetUp]
    public void TrainTheReproducersModel()
    {
        _repro = SharedFiles.Require("fuzz-repro");
        _work = Directory.CreateTempSubdirectory("convengine-fuzz-repro-").FullName;
        _small = Path.Combine(_repro, "small.png");
        // "m" of the reproducers: the course's convnet trained briefly on the bundled sample (28x28 greyscale, 2 classes).
        _model = Path.Combine(_work, "m");
        ConvEngine.Layers.LayerNames.Reset();
        var run = CliHarness.RunProgram("train", "--epochs", "1", "--steps-per-epoch", "1", "--validation-steps", "1", "--out", _model);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
    }

    [OneTimeTearDown]
    public void Cleanup()
    {
        try { Directory.Delete(_work, recursive: true); } catch (IOException) { }
    }

    private string Repro(string folder, string file) => Path.Combine(_repro, folder, file);
    private string Out(string name) => Path.Combine(_work, name);

    /// <summary>Exit code 1 and one error line, the last on standard error, naming <paramref name="file"/>, with no stack trace.</summary>
    private static string AssertCleanError(CliHarness.Result run, string file, string command, long? maxAllocatedBytes = null, long allocated = 0)
    {
        Assert.That(run.ExitCode, Is.EqualTo(1), $"stdout: {run.Out}\nstderr: {run.Error}");
        var lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines, Is.Not.Empty);
        string last = lines[^1];
        Assert.That(last, Does.StartWith($"convengine {command}: "));
        Assert.That(last, Does.Contain(Path.GetFileName(file)), "the message names the file");
        Assert.That(run.Error, Does.Not.Contain("   at ").And.Not.Contain("Exception"), "no stack trace, no raw exception");
        // Informational lines (predict names the model it loaded) may come before; the error itself is one line.
        Assert.That(lines.Count(l => !l.StartsWith($"convengine {command}: ", StringComparison.Ordinal)), Is.Zero);
        if (maxAllocatedBytes is { } max) Assert.That(allocated, Is.LessThan(max), "bytes allocated while refusing the file");
        return last;
    }

    private static (CliHarness.Result Run, long Allocated) Measured(params string[] args)
    {
        long before = GC.GetTotalAllocatedBytes(precise: true);
        var run = CliHarness.RunProgram(args);
        return (run, GC.GetTotalAllocatedBytes(precise: true) - before);
    }

    // ---------------------------------------------------------------- images

    [TestCase("bmp_bitcount0_divide_by_zero", "bitcount0.bmp", "bits per pixel")]
    [TestCase("bmp_bitcount1_nullreference", "bitcount1.bmp", "colour table")]
    [TestCase("pgm_maxval0_divide_by_zero", "pgm_maxval0.png", "not an image in a format the engine reads")]
    [TestCase("png_index_out_of_range_truncated49", "trunc49.png", "truncated")]
    [TestCase("png_zlib_header_exception", "empty_idat.png", "pixel data")]
    public void Filter_MalformedImage_IsOneLineNamingTheFile(string folder, string file, string why)
    {
        string path = Repro(folder, file);
        var run = CliHarness.RunProgram("filter", path, "--out", Out("filter-" + file));
        Assert.That(AssertCleanError(run, path, "filter"), Does.Contain(why));
        Assert.That(Directory.Exists(Out("filter-" + file)), Is.False, "nothing is written for an image that cannot be read");
    }

    [TestCase("bmp_header_only_and_offbits_past_eof_accepted", "header_only.bmp", "truncated")]
    [TestCase("bmp_header_only_and_offbits_past_eof_accepted", "offbits_past_eof.bmp", "pixel data offset")]
    [TestCase("jpeg_without_sof_nullreference", "no_sof.jpg", "frame header")]
    [TestCase("jpeg_without_sof_nullreference", "premature_eoi.jpg", "truncated")]
    [TestCase("png_truncated_pixel_data_accepted", "short_idat.png", "truncated")]
    public void Predict_ImageWithMissingPixelData_IsRefusedNotPredictedAsBlank(string folder, string file, string why)
    {
        string path = Repro(folder, file);
        var run = CliHarness.RunProgram("predict", "--model", _model, path);
        Assert.That(AssertCleanError(run, path, "predict"), Does.Contain(why));
        Assert.That(run.Out, Does.Not.Contain("%"), "no probability for a file that is not all there");
    }

    [Test]
    public void Predict_PngDeclaring8192x8192WithOne28x28Idat_IsRefusedBeforeTheImageIsAllocated()
    {
        string path = Repro("png_truncated_pixel_data_accepted", "ihdr_8192_idat_28.png");
        var (run, allocated) = Measured("predict", "--model", _model, path);
        // The full image would be 8192² × 3 bytes (192 MiB) before any float conversion.
        AssertCleanError(run, path, "predict", maxAllocatedBytes: 64L << 20, allocated);
    }

    [Test]
    public void Filter_TwentyPage8192TiffNamedPng_IsRefusedWithoutDecodingAPage()
    {
        string path = Repro("tiff_multipage_bomb_named_png", "tiff_20_pages_8192.png");
        var (run, allocated) = Measured("filter", path, "--out", Out("tiff"));
        Assert.That(AssertCleanError(run, path, "filter", maxAllocatedBytes: 64L << 20, allocated), Does.Contain("not an image in a format"));
    }

    [Test]
    public void Predict_PngWithA1_5GiBZtxtChunk_PredictsWithoutInflatingTheText()
    {
        string path = Repro("png_ztxt_bomb", "ztxt_bomb.png");
        var (run, allocated) = Measured("predict", "--model", _model, path);
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        Assert.That(run.Out, Does.Contain("ztxt_bomb.png: "));
        Assert.That(allocated, Is.LessThan(256L << 20), "the text chunk (1.5 GiB inflated) is never inflated");
    }

    [Test]
    public void Load_PngWithIdatSplitIntoOneByteChunks_GivesThePixelsOfTheSameDataInOneChunk()
    {
        // A valid PNG (the standard lets IDAT be split anywhere) that made the decoder index out of range.
        string path = Repro("png_index_out_of_range_idat_split", "idat_1byte_chunks.png");
        string merged = Out("merged.png");
        File.WriteAllBytes(merged, PngWithIdatMerged(File.ReadAllBytes(path)));
        var split = ImageIO.Load(path, ColorMode.Rgb);
        var whole = ImageIO.Load(merged, ColorMode.Rgb);
        Assert.That((split.Height, split.Width), Is.EqualTo((whole.Height, whole.Width)));
        Assert.That(split.Pixels, Is.EqualTo(whole.Pixels));
        Assert.That(split.Pixels.Distinct().Count(), Is.GreaterThan(8), "a real picture, not a blank");
    }

    /// <summary>The same PNG with its IDAT chunks joined into one (chunk CRCs recomputed here, independently of the reader).</summary>
    private static byte[] PngWithIdatMerged(byte[] png)
    {
        var chunks = new List<(string Type, byte[] Body)>();
        for (int p = 8; p + 12 <= png.Length;)
        {
            int length = png[p] << 24 | png[p + 1] << 16 | png[p + 2] << 8 | png[p + 3];
            chunks.Add((System.Text.Encoding.ASCII.GetString(png, p + 4, 4), png[(p + 8)..(p + 8 + length)]));
            p += 12 + length;
        }
        var idat = chunks.Where(c => c.Type == "IDAT").SelectMany(c => c.Body).ToArray();
        var output = new MemoryStream();
        output.Write(png, 0, 8);
        bool written = false;
        foreach (var (type, body) in chunks)
        {
            if (type == "IDAT") { if (!written) Chunk(output, type, idat); written = true; }
            else Chunk(output, type, body);
        }
        return output.ToArray();

        static void Chunk(Stream s, string type, byte[] body)
        {
            var typeBytes = System.Text.Encoding.ASCII.GetBytes(type);
            s.Write([(byte)(body.Length >> 24), (byte)(body.Length >> 16), (byte)(body.Length >> 8), (byte)body.Length]);
            s.Write(typeBytes);
            s.Write(body);
            uint crc = 0xFFFFFFFF;
            foreach (byte b in typeBytes.Concat(body))
            {
                crc ^= b;
                for (int k = 0; k < 8; k++) crc = (crc & 1) != 0 ? 0xEDB88320 ^ (crc >> 1) : crc >> 1;
            }
            crc ^= 0xFFFFFFFF;
            s.Write([(byte)(crc >> 24), (byte)(crc >> 16), (byte)(crc >> 8), (byte)crc]);
        }
    }

    [Test]
    public void Filter_Pool100000OnA28x28Image_CondensesToOnePixelWithoutSizingABufferByTheWindow()
    {
        var (run, allocated) = Measured("filter", _small, "--pool", "100000", "--out", Out("pool"));
        Assert.That(run.ExitCode, Is.EqualTo(0), run.Error);
        var condensed = ImageIO.Load(Path.Combine(Out("pool"), "condensed.png"), ColorMode.Grayscale);
        // SAME pooling: ceil(28 / 100000) = 1 output pixel per axis.
        Assert.That((condensed.Height, condensed.Width), Is.EqualTo((1, 1)));
        Assert.That(allocated, Is.LessThan(256L << 20));
    }

    // ---------------------------------------------------------------- model configs

    [TestCase("kerasjson_filters_1e8_oom", "conv2d_1/kernel")]
    [TestCase("kerasjson_filters_2147483647_overflow", "conv2d/kernel")]
    [TestCase("kerasjson_units_1e9_overflow", "dense/kernel")]
    public void Predict_KerasJsonDeclaringAHugeLayer_IsRefusedNamingItBeforeAllocating(string folder, string weight)
    {
        string path = Repro(folder, "model.json");
        var (run, allocated) = Measured("predict", "--model", path, _small);
        Assert.That(AssertCleanError(run, path, "predict", maxAllocatedBytes: 256L << 20, allocated), Does.Contain(weight));
    }

    [Test]
    public void Predict_ConvDilationBeyondTheInput_GivesOneAnswerForEveryDilation_AndAnErrorPast32Bits()
    {
        // conv2d_1 is 3x3 'same' on a 14x14 map: for any dilation D >= 14 only the kernel's centre column touches
        // the input (TensorFlow pads (k-1)·D), so every such D gives the same output. Past 2^31 the window arithmetic
        // cannot be held in 32 bits and must be an error, never a wrapped-around answer.
        string Model(long dilation)
        {
            string folder = Out($"dil{dilation}");
            CopyDirectory(Path.Combine(_repro, "config_dilation_overflow", "dil1000"), folder);
            string config = Path.Combine(folder, "model", "config.json");
            var json = JsonNode.Parse(File.ReadAllText(config))!;
            var conv = json["config"]!["layers"]!.AsArray().Single(l => l!["config"]!["name"]!.GetValue<string>() == "conv2d_1")!;
            conv["config"]!["dilation_rate"] = new JsonArray(1, dilation);
            File.WriteAllText(config, json.ToJsonString());
            return folder;
        }
        string Probabilities(long dilation)
        {
            var run = CliHarness.RunProgram("predict", "--model", Model(dilation), "--format", "csv", _small);
            Assert.That(run.ExitCode, Is.EqualTo(0), $"dilation {dilation}: {run.Error}");
            return run.Out.Split('\n')[1].Split(',', 3)[2];
        }
        string reference = Probabilities(14);
        Assert.That(Probabilities(1000), Is.EqualTo(reference));
        Assert.That(Probabilities(715827882), Is.EqualTo(reference), "(k-1)·D = 1431655764 still fits in 32 bits");
        foreach (string folder in new[] { "dil1073741824", "dil2147483647" })
        {
            string model = Path.Combine(_repro, "config_dilation_overflow", folder);
            var run = CliHarness.RunProgram("predict", "--model", model, _small);
            Assert.That(AssertCleanError(run, Path.Combine(model, "model", "config.json"), "predict"),
                Does.Contain("conv2d_1").And.Contain($"dilation {folder[3..]}"));
        }
    }

    [TestCase("/dev/urandom")]
    [TestCase("/dev/zero")]
    public void Predict_ConfigJsonThatIsADevice_IsRefusedWithoutReadingIt(string device)
    {
        if (!File.Exists(device)) Assert.Ignore($"{device} does not exist on this system.");
        string folder = Out("device-" + Path.GetFileName(device));
        Directory.CreateDirectory(Path.Combine(folder, "model"));
        File.CreateSymbolicLink(Path.Combine(folder, "model", "config.json"), device);
        File.Copy(Path.Combine(_model, "model", ModelFiles.WeightsFile), Path.Combine(folder, "model", ModelFiles.WeightsFile));
        var (run, allocated) = Measured("predict", "--model", folder, _small);
        Assert.That(AssertCleanError(run, "config.json", "predict", maxAllocatedBytes: 64L << 20, allocated), Does.Contain("character device"));
        var direct = CliHarness.RunProgram("predict", "--model", device, _small);
        Assert.That(AssertCleanError(direct, device, "predict"), Does.Contain("character device"));
    }

    [Test]
    public void Predict_ModelThatIsAFifo_IsRefusedInsteadOfBlockingOnOpen()
    {
        if (!OperatingSystem.IsLinux()) Assert.Ignore("mkfifo is a POSIX call.");
        string fifo = Out("model.fifo");
        Assert.That(MakeFifo(fifo, 0x1B6), Is.Zero, "mkfifo");
        var task = Task.Run(() => CliHarness.RunProgram("predict", "--model", fifo, _small));
        Assert.That(task.Wait(TimeSpan.FromSeconds(60)), Is.True, "predict returned instead of waiting for a writer on the FIFO");
        Assert.That(AssertCleanError(task.Result, fifo, "predict"), Does.Contain("named pipe"));
    }

    [LibraryImport("libc", EntryPoint = "mkfifo", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int MakeFifo(string path, int mode);

    // ---------------------------------------------------------------- weights files

    [TestCase("h5_9MB_file_declares_8GiB_dataset", "weights.h5", "2147483591")]
    [TestCase("h5_external_storage_reads_etc_passwd", "weights.h5", "external storage")]
    [TestCase("h5_softlink_loop_stack_overflow", "weights.h5", "soft link")]
    public void Predict_KerasWeightsH5_HostileStructure_IsOneLineNamingTheFile(string folder, string file, string why)
    {
        string weights = Repro(folder, file);
        var (run, allocated) = Measured("predict", "--model", Repro(folder, "model.json"), "--weights", weights, _small);
        Assert.That(AssertCleanError(run, weights, "predict", maxAllocatedBytes: 256L << 20, allocated), Does.Contain(why));
    }

    [Test]
    public void Predict_FullModelH5WithAFlippedByte_IsOneLineNamingTheFile()
    {
        string path = Repro("h5_fullmodel_flip_array_dimensions", "model.h5");
        AssertCleanError(CliHarness.RunProgram("predict", "--model", path, _small), path, "predict");
    }

    [TestCase("duplicate_key.safetensors", "twice")]
    [TestCase("bad_utf8.safetensors", "UTF-8")]
    [TestCase("truncated.safetensors", "truncated")]
    public void Predict_CorruptSafetensors_IsOneLineNamingTheFile(string file, string why)
    {
        string weights = Repro("safetensors_duplicate_key", file);
        var run = CliHarness.RunProgram("predict", "--model", _model, "--weights", weights, _small);
        Assert.That(AssertCleanError(run, weights, "predict"), Does.Contain(why).Or.Contain("Duplicate"));
    }

    // ---------------------------------------------------------------- ONNX and NumPy

    [Test]
    public void Predict_OnnxConvPadsOf2Pow31Minus1_IsAnErrorAndWritesNoOutputs()
    {
        string folder = Path.Combine(_repro, "onnx_conv_pads_int_overflow_silent");
        string outputs = Out("onnx-outputs");
        var run = CliHarness.RunProgram("predict", "--model", Path.Combine(folder, "model.onnx"), Path.Combine(folder, "x.npy"), "--save-outputs", outputs);
        Assert.That(AssertCleanError(run, "model.onnx", "predict"), Does.Contain("2147483647"));
        Assert.That(Directory.Exists(outputs), Is.False);
    }

    [Test]
    public void Predict_OnnxWithARank5Input_IsRefusedNamingTheInput()
    {
        string folder = Path.Combine(_repro, "onnx_rank5_input_nullreference");
        var run = CliHarness.RunProgram("predict", "--model", Path.Combine(folder, "model.onnx"), Path.Combine(folder, "x.npy"));
        Assert.That(AssertCleanError(run, "model.onnx", "predict"), Does.Contain("rank 5"));
    }

    [Test]
    public void Conformance_TruncatedInputTensor_IsAnErrorThatFailsTheRun()
    {
        var run = CliHarness.RunProgram("conformance", Path.Combine(_repro, "pb_truncated_reported_unsupported", "root"), "--details");
        Assert.That(run.ExitCode, Is.Not.Zero, "a corrupt case is an error, not a refusal of an unsupported op");
        Assert.That(run.Out, Does.Contain("error").And.Not.Contain("unsupported │"));
    }

    [TestCase("nan.npy", "NaN")]
    [TestCase("inf.npy", "Infinity")]
    public void Predict_NonFiniteNpyInput_IsRefusedNotGivenAProbability(string file, string value)
    {
        string path = Repro("npy_nan_input_gives_plausible_probability", file);
        var run = CliHarness.RunProgram("predict", "--model", _model, path);
        Assert.That(AssertCleanError(run, path, "predict"), Does.Contain(value));
        Assert.That(run.Out, Does.Not.Contain("%"));
    }

    // ---------------------------------------------------------------- data sets and outputs

    [Test]
    public void Train_IdxLabelsDeclaring1e9Items_IsRefusedBeforeAllocatingThem()
    {
        string fm = Path.Combine(_repro, "idx_labels_header_1e9", "fm");
        var (run, allocated) = Measured("train", "--fashion-mnist", fm, "--model", "custom-convnet-softmax", "--epochs", "1", "--out", Out("idx"));
        AssertCleanError(run, "train-labels-idx1-ubyte.gz", "train", maxAllocatedBytes: 256L << 20, allocated);
        Assert.That(Directory.Exists(Out("idx")), Is.False);
    }

    [Test]
    public void Train_FailingOnAnUnreadableImage_LeavesTheEarlierOutputsDatasetJsonAndModel()
    {
        string folder = Out("clobber");
        CopyDirectory(Path.Combine(_repro, "train_failure_rewrites_dataset_json_of_existing_output"), folder);
        string output = Path.Combine(folder, "out");
        File.Copy(Path.Combine(folder, "dataset.before.json"), Path.Combine(output, "dataset.json"), overwrite: true);
        var before = Snapshot(output);

        var run = CliHarness.RunProgram("train", "--data", Path.Combine(folder, "data"), "--epochs", "1", "--out", output);
        AssertCleanError(run, "train-00575.png", "train");
        Assert.That(Snapshot(output), Is.EqualTo(before), "every file of the earlier output, byte for byte");
    }

    [Test]
    public void Predict_OutputThatIsASymlink_IsRefusedAndTheLinkAndItsTargetStay()
    {
        string folder = Out("symlink");
        Directory.CreateDirectory(folder);
        string target = Path.Combine(folder, "real_results.txt"), link = Path.Combine(folder, "results_link.txt");
        File.WriteAllText(target, "keep me\n");
        File.CreateSymbolicLink(link, target);
        var run = CliHarness.RunProgram("predict", "--model", _model, "--output", link, _small);
        Assert.That(AssertCleanError(run, link, "predict"), Does.Contain("symbolic link"));
        Assert.That(FileKinds.Of(link, followLinks: false), Is.EqualTo(FileKind.SymbolicLink));
        Assert.That(File.ReadAllText(target), Is.EqualTo("keep me\n"));
    }

    [Test]
    public void Predict_OutputThatIsADevice_IsRefusedAndTheDeviceStays()
    {
        if (!File.Exists("/dev/full")) Assert.Ignore("no /dev/full here");
        var run = CliHarness.RunProgram("predict", "--model", _model, "--output", "/dev/full", _small);
        Assert.That(AssertCleanError(run, "/dev/full", "predict"), Does.Contain("character device"));
        Assert.That(FileKinds.Of("/dev/full", followLinks: false), Is.EqualTo(FileKind.CharacterDevice));
    }

    private static Dictionary<string, string> Snapshot(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .ToDictionary(f => Path.GetRelativePath(directory, f), f => Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(f))));

    private static void CopyDirectory(string source, string destination)
    {
        Directory.CreateDirectory(destination);
        foreach (string file in Directory.EnumerateFiles(source))
        {
            string copy = Path.Combine(destination, Path.GetFileName(file));
            File.Copy(file, copy);
            File.SetAttributes(copy, FileAttributes.Normal);
        }
        foreach (string sub in Directory.EnumerateDirectories(source)) CopyDirectory(sub, Path.Combine(destination, Path.GetFileName(sub)));
    }
}
