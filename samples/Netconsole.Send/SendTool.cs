using System.CommandLine;
using System.CommandLine.Help;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Reflection;
using System.Text;
using Netconsole.Devices;
using Netconsole.Targets;
using Netconsole.Transport;
using Netconsole.Wire;
using Netconsole.Samples;

namespace Netconsole.Send;

/// <summary>
/// netconsole-send: like logger(1), for netconsole. Sends records to a target given in the
/// kernel's syntax through the library's <see cref="TargetManager"/> (which picks the device by
/// the route when the target names none, and resolves the next hop's MAC when it gives none),
/// or writes their frames to a pcap file.
/// </summary>
internal static class SendTool
{
    private static readonly string ToolVersion =
        typeof(SendTool).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>Exit code for bad input (syntax, MAC, file).</summary>
    public const int UsageError = 2;

    // logger(1) and /dev/kmsg default to notice; the kernel selftests' records are prio 13 (user.notice).
    private const int DefaultLevel = 5;

    /// <summary>Exit code for a failure while sending (target not set up: device down, no permission, libpcap missing; the one record dropped; with --stdin, records still buffered when the replay wait ran out).</summary>
    public const int SendError = 1;

    /// <summary>The default of --resume-wait-ms: longer than a resume with active next-hop resolution (3 x 300 ms) on a busy machine.</summary>
    public const int DefaultResumeWaitMilliseconds = 5000;

    /// <summary>
    /// The default of --replay-wait-ms: time for a link flap to end and the records buffered
    /// meanwhile to go out (a full default buffer, 10,000 records, replays in about 2 s).
    /// </summary>
    public const int DefaultReplayWaitMilliseconds = 10_000;

    private static readonly string DefaultBurstText = NetconsoleTargetOptions.DefaultMaxDatagramBurst.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The process's entry: <see cref="Run(string[], TextWriter, TextWriter, Stream?, IFrameTransportFactory?)"/>
    /// with standard output and error guarded (a failed write is one line and exit code 1), and a
    /// last resort for anything nothing else caught, so no stack trace reaches the user.
    /// </summary>
    public static int RunProcess(string[] args, TextWriter stdout, TextWriter stderr, Stream? stdin = null) =>
        ToolProcess.RunAsync("netconsole-send", SendError, stdout, stderr, (output, errors) => Task.FromResult(Run(args, output, errors, stdin))).GetAwaiter().GetResult();

    /// <summary>Runs the tool with standard input given as text, read line by line as --stdin needs it (tests that script the input).</summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, TextReader? stdin) =>
        Run(args, stdout, stderr, stdin is null ? null : new TextLinesStream(stdin));

    /// <summary>
    /// Runs the tool; <paramref name="stdin"/> is the bytes --stdin reads (null: the process's
    /// standard input, opened only with --stdin). Tests may give the target's transports and
    /// device watcher (null: libpcap, and the platform's watcher).
    /// </summary>
    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, Stream? stdin = null, IFrameTransportFactory? transports = null, IDeviceWatcher? watcher = null)
    {
        var target = new Option<string>("--target")
        {
            Description = "The target in the kernel's netconsole= syntax: [+][r][src-port]@[src-ip]/[dev],[tgt-port]@<tgt-ip>/[tgt-mac]. "
                + "Without dev, the interface of the route to tgt-ip is used; without tgt-mac, the next hop's MAC is resolved "
                + "(neighbour table, then ARP / neighbour solicitation; broadcast with a warning when nothing answers)",
            Required = true,
        };
        var userdata = new Option<string[]>("--userdata")
        {
            Description = "A userdata line key=value (repeatable; extended format only)",
            AllowMultipleArgumentsPerToken = false,
        };
        var sysdata = new Option<string?>("--sysdata") { Description = "Sysdata lines to append: any of cpu,taskname,release,msgid (comma-separated)" };
        var release = new Option<string?>("--release") { Description = "The release string (for r and the release sysdata line); default: this tool's version" };
        Option<int?> level = Number<int>("--level", "from 0 (emerg) to 7 (debug)", TryParseInt);
        level.Description = "Level 0 (emerg) to 7 (debug); default 5 (notice)";
        Option<int?> facility = Number<int>("--facility", "from 0 (kern) to 23 (local7)", TryParseInt);
        facility.Description = "Facility 0 (kern) to 23 (local7); default 1 (user)";
        Option<ulong?> seq = Number<ulong>("--seq", "from 0 to 18446744073709551615", TryParseUnsigned);
        seq.Description = "The record's sequence number (with --stdin the first one, counting up); default: the monotonic clock in microseconds "
                + "at start (the clock of the timestamps), so every run starts above the numbers of the runs before it and a receiver "
                + "such as netconsd, which discards a number up to 512 behind the newest as a duplicate, loses nothing";
        Option<ulong?> timestamp = Number<ulong>("--timestamp-us", "from 0 to 18446744073709551615", TryParseUnsigned);
        timestamp.Description = "The record's timestamp in microseconds; default: the monotonic clock";
        var sourceMac = new Option<string?>("--source-mac") { Description = "Source MAC of the frames when no device is opened (with --write-pcap)" };
        var messageFile = new Option<string?>("--message-file") { Description = "Read the message from this file, as bytes (one record of at most 65536 bytes; a final newline is dropped)" };
        var writePcap = new Option<string?>("--write-pcap") { Description = "Write the frames to this pcap file (Ethernet link type) instead of injecting them; no device is opened, so the target needs src-ip (and --source-mac or a device MAC) and the frames go to tgt-mac, or to broadcast as the kernel's" };
        var stdinOption = new Option<bool>("--stdin")
        {
            Description = "Send every line of standard input as one record until EOF: the bytes up to each LF, as they are (only LF ends a line; "
                + "a CR, also one before the LF, stays in the text, and invalid UTF-8 passes through: pipe through tr -d '\\r' to drop CRs). "
                + "A line longer than 65536 bytes goes out in pieces of at most 65536 bytes, chained as one continued group (flags c, +), "
                + "and is counted. Sequence numbers count up from --seq. Lines the target cannot send (device down or gone, no carrier) wait in "
                + "its replay buffer (10000 records, 4 MiB, 10 minutes; beyond, the oldest are dropped and counted) and go out first, in order, "
                + "when it can send again; state changes are reported once each, and the summary counts what was replayed and dropped",
        };
        Option<int?> resumeWait = Number<int>("--resume-wait-ms", "from 0 to 600000", TryParseInt);
        resumeWait.Description = "With --stdin: when a line comes while the target is down but its device (or route) is back, how long to wait for the target to be set up again before buffering the line (during an outage lines are buffered at once and reading goes on; 0: one immediate attempt, no waiting); default "
            + DefaultResumeWaitMilliseconds.ToString(CultureInfo.InvariantCulture);
        Option<int?> replayWait = Number<int>("--replay-wait-ms", "from 0 to 600000", TryParseInt);
        replayWait.Description = "With --stdin: at the end of input, how long to wait at most for the lines still buffered (an outage not over, a replay going on) "
            + "to go out; those still buffered then are not sent: reported, counted in the summary as not sent, and the exit code is 1 (0: no waiting); default "
            + DefaultReplayWaitMilliseconds.ToString(CultureInfo.InvariantCulture);
        var rate = new Option<string?>("--rate")
        {
            HelpName = "N[/BURST]",
            Description = "Pacing, N or N/BURST: at most N datagrams a second (1-1000000), at most BURST at once (default "
                + DefaultBurstText + "); an ordinary record is one datagram, a longer one one per fragment. Over the limit the tool waits "
                + "(lines wait in the pipe). Default: no limit",
        };
        var message = new Argument<string?>("MESSAGE") { Description = "The message text", Arity = ArgumentArity.ZeroOrOne };

        var root = new RootCommand(
            "Send a record to a netconsole receiver, like logger(1) for netconsole. Exit codes: 0 sent (with --stdin, lines dropped by the "
            + "replay buffer's limits are counted and reported, not failures); 1 the target could not be set up, the record was dropped, "
            + "lines were still buffered when --replay-wait-ms ran out, or the pcap file or standard output could not be written; 2 bad input (syntax, a number out of range, a file that cannot be read, a device "
            + "that does not exist, no route to a target that names no device).")
        {
            target, userdata, sysdata, release, level, facility, seq, timestamp, sourceMac, messageFile, writePcap, stdinOption, resumeWait, replayWait, rate, message,
        };
        VersionOption version = root.Options.OfType<VersionOption>().Single();

        // A message such as "[suggest]" is a message, not a directive to the parser.
        root.Directives.Clear();
        if (args.Length > 0 && IsDirectiveLike(args[0]))
        {
            stderr.WriteLine($"netconsole-send: a first argument in brackets ({args[0]}) would be taken for a parser directive and lost: put the options first, or the message after -- (netconsole-send --target ... -- \"{args[0]}\")");
            return UsageError;
        }

        // Otherwise an unknown option would silently become the message.
        string? unknown = UnknownOption(root, args);
        if (unknown is not null)
        {
            stderr.WriteLine($"netconsole-send: unknown option {unknown} (see --help; a message that starts with '-' goes after --)");
            return UsageError;
        }

        // The kernel syntax starts with '@' ("@/,@10.0.0.2/"): never read it as a response file.
        ParseResult parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Errors.Count > 0)
        {
            stderr.WriteLine($"netconsole-send: {string.Join("; ", parsed.Errors.Select(e => e.Message))} (see --help)");
            return UsageError;
        }

        // --help and --version clear the parse errors of the other options (a missing --target):
        // they print and exit before any value is read (reading a missing required value throws).
        // The version is this tool's, also when another program hosts it (the parser's own would
        // print the entry assembly's).
        if (parsed.GetResult(version) is not null)
        {
            stdout.WriteLine(ToolVersion);
            return 0;
        }

        if (parsed.Action is HelpAction)
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }

        string? text = parsed.GetValue(message);
        try
        {
            var request = new SendRequest
            {
                Target = parsed.GetValue(target)!,
                Userdata = parsed.GetValue(userdata) ?? [],
                Sysdata = parsed.GetValue(sysdata),
                Release = parsed.GetValue(release),
                Level = parsed.GetValue(level) ?? DefaultLevel,
                Facility = parsed.GetValue(facility),
                Sequence = parsed.GetValue(seq),
                TimestampMicroseconds = parsed.GetValue(timestamp),
                SourceMac = parsed.GetValue(sourceMac),
                MessageFile = parsed.GetValue(messageFile),
                WritePcap = parsed.GetValue(writePcap),
                Stdin = parsed.GetValue(stdinOption),
                ResumeWaitMilliseconds = parsed.GetValue(resumeWait) ?? DefaultResumeWaitMilliseconds,
                ReplayWaitMilliseconds = parsed.GetValue(replayWait),
                Rate = parsed.GetValue(rate),
                Message = text,
            };
            return Send(request, stdout, stderr, stdin, transports, watcher);
        }
        catch (FrameTransportException e)
        {
            stderr.WriteLine($"netconsole-send: {e.Message}");
            return SendError;
        }
        catch (SendFailureException e)
        {
            stderr.WriteLine($"netconsole-send: {e.Message}");
            return SendError;
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"netconsole-send: {e.Message}");
            return UsageError;
        }
        catch (NetconsoleConfigurationException e)
        {
            stderr.WriteLine($"netconsole-send: {e.Message}");
            return UsageError;
        }
    }

    private delegate bool TryParse<T>(string text, out T value);

    private static bool TryParseInt(string text, out int value) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    private static bool TryParseUnsigned(string text, out ulong value) =>
        ulong.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value);

    // A number option whose parse error says what a valid value is, not the parser's type name.
    private static Option<T?> Number<T>(string name, string range, TryParse<T> tryParse)
        where T : struct =>
        new(name)
        {
            CustomParser = result =>
            {
                string text = string.Join(' ', result.Tokens.Select(t => t.Value));
                if (tryParse(text, out T value))
                {
                    return value;
                }

                result.AddError($"{name} \"{text}\" is not a whole number {range}.");
                return null;
            },
        };

    // The parser takes leading arguments like "[name]" for directives, and drops those it does not know.
    private static bool IsDirectiveLike(string arg) => arg.Length > 2 && arg[0] == '[' && arg[^1] == ']';

    private static string? UnknownOption(RootCommand root, string[] args)
    {
        var known = root.Options.SelectMany(o => o.Aliases.Append(o.Name)).ToHashSet(StringComparer.Ordinal);
        for (int i = 0; i < args.Length && args[i] != "--"; i++)
        {
            string name = args[i].Split('=', 2)[0];
            if (name.StartsWith('-') && name.Length > 1 && !known.Contains(name))
            {
                return args[i];
            }

            if (known.Contains(name) && !args[i].Contains('=', StringComparison.Ordinal))
            {
                i++; // skip the option's value, which may itself start with '-'
            }
        }

        return null;
    }

    private static int Send(SendRequest request, TextWriter stdout, TextWriter stderr, Stream? stdin, IFrameTransportFactory? transports, IDeviceWatcher? watcher)
    {
        NetconsoleTargetOptions options = BuildOptions(request);
        if (request.Level is < 0 or > 7)
        {
            throw new UsageException($"--level {request.Level} is out of range: use 0 (emerg) to 7 (debug).");
        }

        if (request.Stdin && (request.Message is not null || request.MessageFile is not null))
        {
            throw new UsageException("--stdin reads the messages from standard input: give no MESSAGE or --message-file with it.");
        }

        if (request.ResumeWaitMilliseconds is < 0 or > 600_000)
        {
            throw new UsageException($"--resume-wait-ms {request.ResumeWaitMilliseconds} is out of range: use 0 to 600000 (default {DefaultResumeWaitMilliseconds}).");
        }

        if (request.ReplayWaitMilliseconds is { } replayWait)
        {
            if (replayWait is < 0 or > 600_000)
            {
                throw new UsageException($"--replay-wait-ms {replayWait} is out of range: use 0 to 600000 (default {DefaultReplayWaitMilliseconds}).");
            }

            if (!request.Stdin || request.WritePcap is not null)
            {
                throw new UsageException("--replay-wait-ms is how long --stdin waits at the end for lines buffered during an outage: it needs --stdin, and --write-pcap has no outage.");
            }
        }

        if (request.WritePcap is not null && request.Rate is not null)
        {
            throw new UsageException("--rate paces what is sent to a receiver, and --write-pcap sends nothing: leave --rate out.");
        }

        if (request.WritePcap is { Length: 0 })
        {
            throw new UsageException("--write-pcap needs a file name (example: --write-pcap out.pcap).");
        }

        byte[]? single = request.Stdin ? null : ReadMessage(request);
        if (request.WritePcap is null && request.SourceMac is not null)
        {
            throw new UsageException("--source-mac only applies with --write-pcap: injected frames carry the device's own MAC, as the kernel's do.");
        }

        // The default: the clock at start, the same for both paths, read before the first line.
        ulong first = request.Sequence ?? NetconsoleRecord.GetTimestampMicroseconds();
        var input = new Input(single, request.Stdin ? stdin ?? OpenStandardInput() : null, stderr);
        int exit = request.WritePcap is not null
            ? WritePcap(request, options, input, first, stdout)
            : SendLive(request, options, input, first, stdout, stderr, transports, watcher);
        if (input.Error is { } error)
        {
            stderr.WriteLine($"netconsole-send: cannot read standard input: {error}");
            return UsageError;
        }

        return exit;
    }

    private static Stream OpenStandardInput()
    {
        try
        {
            return Console.OpenStandardInput();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot read standard input: {e.Message}");
        }
    }

    private static NetconsoleRecord NewRecord(SendRequest request, LineReader.Piece piece, ulong sequence) =>
        new(request.Level, piece.Text)
        {
            Sequence = sequence,
            TimestampMicroseconds = request.TimestampMicroseconds ?? NetconsoleRecord.GetTimestampMicroseconds(),
            Continuation = piece.Continuation,
        };

    // No device: the tool formats the records and builds the frames itself, destination MAC
    // the target's or broadcast, as the kernel would send them. Each frame is written through
    // (no buffer), so what the summary counts is on disk, and a full disk is seen at its frame.
    private static int WritePcap(SendRequest request, NetconsoleTargetOptions options, Input input, ulong first, TextWriter stdout)
    {
        FrameBuilder frames = CreateFrameBuilder(options, request.SourceMac);
        using PcapSink sink = PcapSink.Create(request.WritePcap!, frames,
            FrameLog.Route(options.LocalAddress!, options.LocalPort, options.RemoteAddress!, options.RemotePort), request.Stdin ? null : stdout);
        var formatter = new RecordFormatter(options.ToRecordFormat());
        ulong sequence = first;
        long records = 0;
        foreach (LineReader.Piece piece in input.Pieces())
        {
            FormattedRecord formatted = formatter.Format(NewRecord(request, piece, sequence));
            foreach (ReadOnlySpan<byte> datagram in formatted)
            {
                sink.Send(datagram);
            }

            records++;
            sequence += (ulong)formatted.SequenceNumbersUsed;
        }

        sink.Close();
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{records} record(s), {sequence - first} sequence number(s), {sink.Sent} frame(s) {sink.Verb}, {sink.Dropped} dropped{input.Summary()}"));
        return 0;
    }

    // The library's target: the device by name, by MAC or by the route; the next hop resolved
    // when no remote MAC is given; outages ridden through (with --stdin) by its recovery and its
    // replay buffer.
    private static int SendLive(SendRequest request, NetconsoleTargetOptions options, Input input, ulong first, TextWriter stdout, TextWriter stderr, IFrameTransportFactory? transports, IDeviceWatcher? watcher)
    {
        using LiveTarget target = LiveTarget.Open(options, replay: request.Stdin, transports, watcher, stderr, TimeSpan.FromMilliseconds(request.ResumeWaitMilliseconds));
        if (options.MaxDatagramsPerSecond > 0)
        {
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"netconsole-send: pacing: at most {options.MaxDatagramsPerSecond} datagrams a second, {options.MaxDatagramBurst} at once"));
        }

        ulong sequence = first;
        long records = 0;
        foreach (LineReader.Piece piece in input.Pieces())
        {
            // Consecutive numbers: the target moves later records up by what continued groups take.
            target.Send(NewRecord(request, piece, sequence++));
            records++;
        }

        if (request.Stdin)
        {
            target.Finish(TimeSpan.FromMilliseconds(request.ReplayWaitMilliseconds ?? DefaultReplayWaitMilliseconds), "--replay-wait-ms");
        }

        // records = sent + replayed + dropped + not sent (a record sent whole takes one frame, a longer one more).
        long dropped = target.Dropped;
        string notSent = target.NotSent > 0 ? string.Create(CultureInfo.InvariantCulture, $", {target.NotSent} not sent (still buffered)") : "";
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{records} record(s), {target.FramesSent} frame(s) sent, {target.Replayed} replayed, {dropped} dropped{target.DroppedByReason()}{notSent}{input.Summary()}"));

        // One record that did not go out is a failure. With --stdin, drops by the replay buffer's
        // limits are counted and reported, as the kernel counts its drops (the receiver sees the
        // gap in the sequence numbers); records still buffered at the end are a failure: they are
        // the last ones, after which a receiver sees no gap.
        return (!request.Stdin && dropped > 0) || target.NotSent > 0 ? SendError : 0;
    }

    private static NetconsoleTargetOptions BuildOptions(SendRequest request)
    {
        NetconsoleTargetOptions options = NetconsoleTargetOptions.Parse(request.Target);
        foreach (string pair in request.Userdata)
        {
            int eq = pair.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                throw new UsageException($"--userdata \"{pair}\" is not key=value (example: --userdata host=web-1).");
            }

            options.Userdata[pair[..eq]] = pair[(eq + 1)..];
        }

        options.Sysdata = ParseSysdata(request.Sysdata);
        if (request.Release is not null)
        {
            options.Release = request.Release;
        }

        if (request.Facility is int f)
        {
            options.Facility = f;
        }

        if (request.Rate is not null)
        {
            (options.MaxDatagramsPerSecond, options.MaxDatagramBurst) = ParseRate(request.Rate);
        }

        options.Validate();
        return options;
    }

    private static FrameBuilder CreateFrameBuilder(NetconsoleTargetOptions options, string? sourceMacText)
    {
        PhysicalAddress? sourceMac = sourceMacText is not null ? ParseMac(sourceMacText, "--source-mac") : options.DeviceMac;
        if (sourceMac is null)
        {
            throw new UsageException("--write-pcap opens no device, so the frames need a source MAC: give --source-mac 02:00:00:00:00:01 (or bind the target by MAC).");
        }

        if (options.LocalAddress is null)
        {
            throw new UsageException($"--write-pcap opens no device, so the target must name its source address (src-ip), for example \"@192.0.2.1/,@{options.RemoteAddress}/\".");
        }

        // No device is opened, so no next hop can be resolved: without a remote MAC the frames
        // go to broadcast, as the kernel's do.
        PhysicalAddress destinationMac = options.RemoteMac ?? PcapSink.Broadcast;
        return new FrameBuilder(sourceMac, destinationMac, options.LocalAddress, options.LocalPort, options.RemoteAddress!, options.RemotePort);
    }

    private static PhysicalAddress ParseMac(string text, string option)
    {
        string[] parts = text.Split(':');
        var bytes = new byte[6];
        if (parts.Length != 6 || !parts.Select((p, i) => p.Length == 2 && byte.TryParse(p, NumberStyles.HexNumber, CultureInfo.InvariantCulture, out bytes[i])).All(ok => ok))
        {
            throw new UsageException($"{option} \"{text}\" is not a MAC address: write six hex bytes separated by ':' (example: 02:00:00:00:00:01).");
        }

        return new PhysicalAddress(bytes);
    }

    private static SysdataFields ParseSysdata(string? text)
    {
        var fields = SysdataFields.None;
        if (string.IsNullOrWhiteSpace(text))
        {
            return fields;
        }

        foreach (string name in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            fields |= name switch
            {
                "cpu" => SysdataFields.Cpu,
                "taskname" => SysdataFields.TaskName,
                "release" => SysdataFields.Release,
                "msgid" => SysdataFields.MessageId,
                _ => throw new UsageException($"--sysdata \"{name}\" is unknown: use any of cpu,taskname,release,msgid (example: --sysdata cpu,msgid)."),
            };
        }

        return fields;
    }

    private static (int Rate, int Burst) ParseRate(string text)
    {
        string[] parts = text.Split('/');
        int burst = NetconsoleTargetOptions.DefaultMaxDatagramBurst;
        if (parts.Length <= 2
            && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out int rate) && rate is >= 1 and <= 1_000_000
            && (parts.Length == 1 || (int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out burst) && burst is >= 1 and <= 1_000_000)))
        {
            return (rate, burst);
        }

        throw new UsageException(
            $"--rate \"{text}\" is not N or N/BURST: at most N datagrams a second and BURST at once, each 1 to 1000000 (BURST defaults to {DefaultBurstText}; example: --rate 200/20).");
    }

    private static byte[] ReadMessage(SendRequest request)
    {
        if (request.MessageFile is not null && request.Message is not null)
        {
            throw new UsageException("give the message either as MESSAGE or with --message-file, not both.");
        }

        if (request.MessageFile is not null)
        {
            byte[] bytes = ReadMessageFile(request.MessageFile);
            return bytes.Length > 0 && bytes[^1] == (byte)'\n' ? bytes[..^1] : bytes;
        }

        if (request.Message is null)
        {
            throw new UsageException("no message: give MESSAGE or --message-file FILE (example: netconsole-send --target \"+@192.0.2.1/,@192.0.2.2/\" --source-mac 02:00:00:00:00:01 --write-pcap out.pcap \"hello\").");
        }

        return Encoding.UTF8.GetBytes(request.Message);
    }

    // At most one record's text (and its final newline): a device such as /dev/zero, or a huge
    // file, is refused after that many bytes, not read until memory runs out.
    private static byte[] ReadMessageFile(string path)
    {
        const int Limit = LineReader.MaxLineBytes + 1;
        if (path.Length == 0)
        {
            throw new UsageException("--message-file needs a file name (example: --message-file message.txt).");
        }

        if (Directory.Exists(path))
        {
            throw new UsageException($"--message-file {path} is a directory: give a file.");
        }

        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, bufferSize: 0);
            byte[] buffer = new byte[Limit + 1];
            int length = 0;
            int read;
            while (length < buffer.Length && (read = file.Read(buffer, length, buffer.Length - length)) > 0)
            {
                length += read;
            }

            if (length > Limit || (length == Limit && buffer[Limit - 1] != (byte)'\n'))
            {
                throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                    $"--message-file {path} is longer than {LineReader.MaxLineBytes} bytes, the most one record takes here: send a long text line by line with --stdin (a longer line goes out in pieces)."));
            }

            return buffer[..length];
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or NotSupportedException)
        {
            throw new UsageException($"cannot read --message-file {path}: {e.Message}");
        }
    }

    private sealed class SendRequest
    {
        public required string Target { get; init; }

        public required string[] Userdata { get; init; }

        public string? Sysdata { get; init; }

        public string? Release { get; init; }

        public int Level { get; init; }

        public int? Facility { get; init; }

        public ulong? Sequence { get; init; }

        public ulong? TimestampMicroseconds { get; init; }

        public string? SourceMac { get; init; }

        public string? MessageFile { get; init; }

        public string? WritePcap { get; init; }

        public bool Stdin { get; init; }

        public int ResumeWaitMilliseconds { get; init; }

        public int? ReplayWaitMilliseconds { get; init; }

        public string? Rate { get; init; }

        public string? Message { get; init; }
    }
}

/// <summary>What the records' texts come from: the one message, or standard input line by line.</summary>
internal sealed class Input
{
    private readonly byte[]? _single;
    private readonly LineReader? _lines;

    public Input(byte[]? single, Stream? stdin, TextWriter stderr)
    {
        _single = single;
        if (stdin is not null)
        {
            _lines = new LineReader(stdin)
            {
                LongLineFound = line => stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"netconsole-send: line {line} is longer than {LineReader.MaxLineBytes} bytes: it goes out in pieces of at most {LineReader.MaxLineBytes} bytes, chained as one continued group (flags c, +); further long lines are only counted")),
            };
        }
    }

    /// <summary>Why standard input could not be read to its end, or null.</summary>
    public string? Error => _lines?.Error;

    public IEnumerable<LineReader.Piece> Pieces() =>
        _lines?.ReadAll() ?? [new LineReader.Piece(_single!, RecordContinuation.None)];

    /// <summary>What the summary line adds about the input: long lines, when there were any.</summary>
    public string Summary() =>
        _lines is { LongLines: > 0 } lines
            ? string.Create(CultureInfo.InvariantCulture, $", {lines.LongLines} line(s) longer than {LineReader.MaxLineBytes} bytes sent in pieces")
            : "";
}

/// <summary>Text given as standard input (tests that script it): each line read from the reader when the tool asks for more, as UTF-8 with its LF.</summary>
internal sealed class TextLinesStream(TextReader reader) : Stream
{
    private byte[] _pending = [];
    private int _offset;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count)
    {
        if (_offset == _pending.Length)
        {
            string? line = reader.ReadLine();
            if (line is null)
            {
                return 0;
            }

            _pending = Encoding.UTF8.GetBytes(line + "\n");
            _offset = 0;
        }

        int n = Math.Min(count, _pending.Length - _offset);
        Array.Copy(_pending, _offset, buffer, offset, n);
        _offset += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}

/// <summary>Bad input on the command line: one clear line on stderr, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
