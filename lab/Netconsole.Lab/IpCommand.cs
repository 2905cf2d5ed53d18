using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Netconsole.Lab;

/// <summary>The outcome of one <c>ip</c> command.</summary>
internal readonly record struct IpResult(int ExitCode, string Output, string Error)
{
    public bool Succeeded => ExitCode == 0;
}

/// <summary>
/// Runs iproute2's <c>ip</c> as a child process, one argument per ArgumentList entry (never a
/// shell string), logs every command, and turns failures into messages that carry stderr.
/// </summary>
internal sealed class IpCommand
{
    private static readonly Lazy<string?> IpPath = new(Locate);

    private readonly LabLog _log;
    private readonly TimeSpan _timeout;

    public IpCommand(LabLog log, TimeSpan timeout)
    {
        _log = log;
        _timeout = timeout;
    }

    /// <summary>The path of <c>ip</c>, or null when iproute2 is not installed.</summary>
    public static string? Path => IpPath.Value;

    /// <summary>Runs <c>ip</c> with <paramref name="arguments"/> and returns its output.</summary>
    /// <exception cref="NetworkLabException">The command failed; the message carries its stderr.</exception>
    public string Run(params string[] arguments)
    {
        IpResult result = TryRun(arguments);
        if (!result.Succeeded)
        {
            throw new NetworkLabException(
                $"'{Describe(arguments)}' failed with exit code {result.ExitCode}: {result.Error.Trim()}");
        }

        return result.Output;
    }

    /// <summary>
    /// Runs several commands in one <c>ip -batch</c> process (optionally inside a named
    /// namespace), which stops at the first failing command.
    /// </summary>
    /// <param name="networkNamespace">The namespace to run them in (<c>ip -n</c>), or null for the current one.</param>
    /// <param name="commands">The commands, each as arguments after <c>ip</c>; no argument may contain whitespace.</param>
    /// <exception cref="NetworkLabException">A command failed; the message carries ip's stderr, which names the failing line.</exception>
    public void RunBatch(string? networkNamespace, params string[][] commands)
    {
        string prefix = networkNamespace is null ? "" : $"-n {networkNamespace} ";
        foreach (string[] command in commands)
        {
            if (command.Any(argument => argument.Length == 0 || argument.Any(char.IsWhiteSpace)))
            {
                throw new ArgumentException($"'{string.Join(' ', command)}' has an empty or blank argument, which ip -batch cannot take.", nameof(commands));
            }

            _log.Write($"ip {prefix}{string.Join(' ', command)}   (batch)");
        }

        string script = string.Concat(commands.Select(command => string.Join(' ', command) + "\n"));
        IpResult result = Execute(LabInterfaces.InNamespace(networkNamespace, "-batch", "-"), script, log: false);
        if (!result.Succeeded)
        {
            throw new NetworkLabException(
                $"'ip {prefix}-batch -' failed with exit code {result.ExitCode} running:\n{script}{result.Error.Trim()}");
        }
    }

    /// <summary>Runs <c>ip</c> with <paramref name="arguments"/>; a non-zero exit is returned, not thrown.</summary>
    /// <exception cref="NetworkLabException">ip is missing, could not start or did not finish in time.</exception>
    public IpResult TryRun(params string[] arguments) => Execute(arguments, input: null, log: true);

    private IpResult Execute(string[] arguments, string? input, bool log)
    {
        string ip = Path ?? throw new NetworkLabException(
            "The network lab needs iproute2's 'ip' command (Debian/Ubuntu: apt-get install iproute2).");
        var start = new ProcessStartInfo(ip)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = input is not null,
            UseShellExecute = false,
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (string argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        string command = Describe(arguments);
        if (log)
        {
            _log.Write(command);
        }

        using var process = Process.Start(start)
            ?? throw new NetworkLabException($"'{command}' could not be started.");
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> error = process.StandardError.ReadToEndAsync();
        if (input is not null)
        {
            process.StandardInput.Write(input);
            process.StandardInput.Close();
        }

        if (!process.WaitForExit(_timeout))
        {
            try
            {
                process.Kill();
            }
            catch (InvalidOperationException)
            {
                // It exited in the meantime.
            }

            throw new NetworkLabException(
                $"'{command}' did not finish within {_timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s and was killed.");
        }

        process.WaitForExit(); // drains the redirected streams
        var result = new IpResult(process.ExitCode, output.GetAwaiter().GetResult(), error.GetAwaiter().GetResult());
        if (!result.Succeeded)
        {
            _log.Write($"  -> exit {result.ExitCode}: {result.Error.Trim()}");
        }

        return result;
    }

    private static string Describe(string[] arguments) => "ip " + string.Join(' ', arguments);

    private static string? Locate()
    {
        IEnumerable<string> directories = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Concat(["/usr/sbin", "/sbin", "/usr/bin", "/bin"]);
        return directories
            .Select(directory => System.IO.Path.Combine(directory, "ip"))
            .FirstOrDefault(File.Exists);
    }
}

/// <summary>The lab's log: an optional TextWriter, written one line at a time under a lock.</summary>
internal sealed class LabLog
{
    private readonly TextWriter? _writer;
    private readonly string _label;
    private readonly Lock _gate = new();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public LabLog(TextWriter? writer, string label)
    {
        _writer = writer;
        _label = label;
    }

    public void Write(string line)
    {
        if (_writer is null)
        {
            return;
        }

        lock (_gate)
        {
            try
            {
                _writer.WriteLine($"[{_label} +{_clock.ElapsedMilliseconds.ToString(CultureInfo.InvariantCulture)} ms] {line}");
                _writer.Flush();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
            {
                // A log that fails (a closed test output, for one) must not fail the lab.
            }
        }
    }

    /// <summary>A problem during cleanup: to the log and to Debug, never thrown.</summary>
    public void Problem(string line)
    {
        Debug.WriteLine($"[{_label}] {line}");
        Write(line);
    }
}
