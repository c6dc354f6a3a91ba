using ConvEngine.Serialization;
using NUnit.Framework;

namespace ConvEngine.Tests.Training;

/// <summary>What a writer killed mid-write leaves behind, and how a resumed run cleans it up.</summary>
public class AtomicLeftoverTests
{
    private string _dir = "";

    [SetUp]
    public void SetUp() => _dir = Directory.CreateTempSubdirectory("convengine-leftovers-").FullName;

    [TearDown]
    public void TearDown() => Directory.Delete(_dir, recursive: true);

    // A pid far above Linux's pid_max (4194304) can never be a running process.
    private const int DeadPid = 99_999_999;

    [Test]
    public void RemoveLeftovers_DeletesTempFilesOfDeadWriters_KeepsLiveOnesAndRealFiles()
    {
        string nested = Directory.CreateDirectory(Path.Combine(_dir, "checkpoints")).FullName;
        string deadFile = Path.Combine(_dir, $".history.csv.{DeadPid}.{Guid.NewGuid():N}.tmp");
        string deadFolder = Path.Combine(nested, $".epoch-0002.{DeadPid}.{Guid.NewGuid():N}.tmp");
        string liveFile = Path.Combine(_dir, $".loss.png.{Environment.ProcessId}.{Guid.NewGuid():N}.tmp");
        string real = Path.Combine(_dir, "history.csv");
        File.WriteAllText(deadFile, "half");
        Directory.CreateDirectory(deadFolder);
        File.WriteAllText(Path.Combine(deadFolder, "model.safetensors"), "half");
        File.WriteAllText(liveFile, "being written");
        File.WriteAllText(real, "epoch,loss");

        int cleaned = AtomicFile.RemoveLeftovers(_dir);

        Assert.That(cleaned, Is.EqualTo(2));
        Assert.That(File.Exists(deadFile) || Directory.Exists(deadFolder), Is.False, "a dead writer's temp entries are removed");
        Assert.That(File.Exists(liveFile), Is.True, "a running writer's temp file is left alone");
        Assert.That(File.ReadAllText(real), Is.EqualTo("epoch,loss"));
    }

    // AtomicDirectory replaces a folder by moving the old one aside, then the new one in: a kill between the two
    // renames leaves only ".NAME.PID.GUID.old", the last complete version, which must come back.
    [Test]
    public void RemoveLeftovers_RestoresAnOldFolder_WhenTheKillCameBetweenTheTwoRenames()
    {
        string old = Directory.CreateDirectory(Path.Combine(_dir, $".model.{DeadPid}.{Guid.NewGuid():N}.old")).FullName;
        File.WriteAllText(Path.Combine(old, "config.json"), "{}");

        AtomicFile.RemoveLeftovers(_dir);

        Assert.That(File.ReadAllText(Path.Combine(_dir, "model", "config.json")), Is.EqualTo("{}"));
        Assert.That(Directory.Exists(old), Is.False);
    }

    [Test]
    public void RemoveLeftovers_DropsAnOldFolder_WhenTheNewOneIsInPlace()
    {
        Directory.CreateDirectory(Path.Combine(_dir, "model"));
        File.WriteAllText(Path.Combine(_dir, "model", "config.json"), "new");
        string old = Directory.CreateDirectory(Path.Combine(_dir, $".model.{DeadPid}.{Guid.NewGuid():N}.old")).FullName;

        AtomicFile.RemoveLeftovers(_dir);

        Assert.That(Directory.Exists(old), Is.False);
        Assert.That(File.ReadAllText(Path.Combine(_dir, "model", "config.json")), Is.EqualTo("new"));
    }

    // A writer still running may be between its two renames: its ".old" is not ours to touch.
    [Test]
    public void RemoveLeftovers_LeavesALiveWritersOldFolderAlone()
    {
        string old = Directory.CreateDirectory(Path.Combine(_dir, $".model.{Environment.ProcessId}.{Guid.NewGuid():N}.old")).FullName;

        Assert.That(AtomicFile.RemoveLeftovers(_dir), Is.EqualTo(0));
        Assert.That(Directory.Exists(old), Is.True);
        Assert.That(Directory.Exists(Path.Combine(_dir, "model")), Is.False);
    }
}
