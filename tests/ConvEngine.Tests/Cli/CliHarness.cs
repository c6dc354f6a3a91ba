using Spectre.Console;
using ConvEngine.Cli.Commands;
using Spectre.Console.Cli;

namespace ConvEngine.Tests.Cli;

/// <summary>
/// Runs CLI commands in-process through Spectre's CommandApp, capturing what they write to the console and to
/// standard error. Callers swap process-wide consoles, so their fixtures are [NonParallelizable].
/// </summary>
internal static class CliHarness
{
    /// <summary>Wide enough that no line the tests look for is wrapped.</summary>
    public const int DefaultWidth = 240;

    public sealed record Result(int ExitCode, string Out, string Error);

    /// <summary>Runs <typeparamref name="TCommand"/> as the app's only command.</summary>
    public static Result Run<TCommand>(params string[] args) where TCommand : class, ICommand =>
        Run(new CommandApp<TCommand>(), DefaultWidth, args);

    /// <summary>Runs the `convengine` executable's own entry point in-process: every command, as Program.cs registers them.</summary>
    public static Result RunProgram(params string[] args) => Capture(DefaultWidth, () =>
        (int)typeof(CommandLine).Assembly.EntryPoint!.Invoke(null, [args])!);

    /// <summary>Runs an app whose commands the caller has configured (e.g. a branch such as `weights`).</summary>
    public static Result Run(ICommandApp app, int width, params string[] args) => Capture(width, console =>
    {
        app.Configure(c => c.ConfigureConsole(console));
        // As the executable runs it: strict parsing and the one-line error format (CommandLine.Run).
        return CommandLine.Run(app, args);
    });

    private static Result Capture(int width, Func<int> run) => Capture(width, _ => run());

    private static Result Capture(int width, Func<IAnsiConsole, int> run)
    {
        var error = new StringWriter();
        var output = new StringWriter();
        var previousError = Console.Error;
        var previousConsole = AnsiConsole.Console;
        Console.SetError(error);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(output), Ansi = AnsiSupport.No });
        console.Profile.Width = width;
        AnsiConsole.Console = console;
        try
        {
            int code = run(console);
            return new Result(code, output.ToString(), error.ToString());
        }
        finally
        {
            Console.SetError(previousError);
            AnsiConsole.Console = previousConsole;
        }
    }
}
