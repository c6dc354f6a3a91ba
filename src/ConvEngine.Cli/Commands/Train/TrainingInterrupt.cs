using System.Runtime.InteropServices;

namespace ConvEngine.Cli.Commands;

/// <summary>
/// Ctrl+C (SIGINT) and SIGTERM while `convengine train` runs: the first asks training to stop after the step under
/// way and checkpoint it (Model.Fit's cancellation); a second exits at once with code 130, leaving the last
/// complete checkpoint as the resume point (checkpoints are written aside and renamed, so none is half-written).
/// </summary>
internal sealed class TrainingInterrupt : IDisposable
{
    private readonly CancellationTokenSource _source;
    private readonly PosixSignalRegistration[] _registrations;
    private int _signals;

    public TrainingInterrupt(CancellationToken outer)
    {
        _source = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _registrations = [PosixSignalRegistration.Create(PosixSignal.SIGINT, Handle), PosixSignalRegistration.Create(PosixSignal.SIGTERM, Handle)];
    }

    /// <summary>Cancelled by the first signal (or by the token the command was given).</summary>
    public CancellationToken Token => _source.Token;

    private void Handle(PosixSignalContext context)
    {
        context.Cancel = true;   // the runtime's default would end the process now
        string name = context.Signal == PosixSignal.SIGTERM ? "SIGTERM" : "Ctrl+C";
        if (Interlocked.Increment(ref _signals) == 1)
        {
            Console.Error.WriteLine($"convengine train: {name}: finishing the step under way and writing a checkpoint (press Ctrl+C again to stop at once).");
            _source.Cancel();
            return;
        }
        Console.Error.WriteLine($"convengine train: {name} again: stopped at once; --resume continues from the last complete checkpoint.");
        Console.Error.Flush();
        Environment.Exit(CommandLine.InterruptedExitCode);
    }

    public void Dispose()
    {
        foreach (var registration in _registrations) registration.Dispose();
        _source.Dispose();
    }
}
