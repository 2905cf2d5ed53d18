using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Text;
using Netconsole.Targets;
using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Send;

/// <summary>
/// netconsole-send: like logger(1), for netconsole. Sends records to a target given in the
/// kernel's syntax through the library's <see cref="TargetManager"/> (which picks the device by
/// the route when the target names none, and resolves the next hop's MAC when it gives none),
/// or writes their frames to a pcap file.
/// </summary>
internal static class SendTool
{
    /// <summary>Exit code for bad input (syntax, MAC, file).</summary>
    public const int UsageError = 2;

    // logger(1) and /dev/kmsg default to notice; the kernel selftests' records are prio 13 (user.notice).
    private const int DefaultLevel = 5;

    /// <summary>Exit code for a failure while sending (target not set up: device down, no permission, libpcap missing; the one record dropped).</summary>
    public const int SendError = 1;

    /// <summary>The default of --resume-wait-ms: longer than a resume with active next-hop resolution (3 x 300 ms) on a busy machine.</summary>
    public const int DefaultResumeWaitMilliseconds = 5000;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, TextReader? stdin = null, IFrameTransportFactory? transports = null)
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
        var level = new Option<int>("--level") { Description = "Level 0 (emerg) to 7 (debug)", DefaultValueFactory = _ => DefaultLevel };
        var facility = new Option<int?>("--facility") { Description = "Facility 0 (kern) to 23 (local7); default 1 (user)" };
        var seq = new Option<ulong>("--seq") { Description = "The record's sequence number", DefaultValueFactory = _ => 0 };
        var timestamp = new Option<ulong?>("--timestamp-us") { Description = "The record's timestamp in microseconds; default: the monotonic clock" };
        var sourceMac = new Option<string?>("--source-mac") { Description = "Source MAC of the frames when no device is opened (with --write-pcap)" };
        var messageFile = new Option<FileInfo?>("--message-file") { Description = "Read the message from this file (one record; a final newline is dropped)" };
        var writePcap = new Option<FileInfo?>("--write-pcap") { Description = "Write the frames to this pcap file (Ethernet link type) instead of injecting them; no device is opened, so the target needs src-ip (and --source-mac or a device MAC) and the frames go to tgt-mac, or to broadcast as the kernel's" };
        var stdinOption = new Option<bool>("--stdin") { Description = "Send every line read from standard input as one record until EOF (sequence numbers count up from --seq); records the target cannot send (device down or gone) are dropped, counted and reported once per state change" };
        var resumeWait = new Option<int>("--resume-wait-ms")
        {
            Description = "With --stdin: when a line comes while the target is down but its device (or route) is back, how long to wait for the target to be set up again before dropping the line (during an outage lines are dropped at once; 0: one immediate attempt, no waiting)",
            DefaultValueFactory = _ => DefaultResumeWaitMilliseconds,
        };
        var message = new Argument<string?>("MESSAGE") { Description = "The message text", Arity = ArgumentArity.ZeroOrOne };

        var root = new RootCommand(
            "Send a record to a netconsole receiver, like logger(1) for netconsole. Exit codes: 0 sent (with --stdin, dropped lines are "
            + "counted and reported, not failures); 1 the target could not be set up or the record was dropped; 2 bad input (syntax, "
            + "a device that does not exist, no route to a target that names no device).")
        {
            target, userdata, sysdata, release, level, facility, seq, timestamp, sourceMac, messageFile, writePcap, stdinOption, resumeWait, message,
        };

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

        if (parsed.Action is not null && parsed.CommandResult.Command == root && args.Any(a => a is "--help" or "-h" or "-?"))
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr });
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
                Level = parsed.GetValue(level),
                Facility = parsed.GetValue(facility),
                Sequence = parsed.GetValue(seq),
                TimestampMicroseconds = parsed.GetValue(timestamp),
                SourceMac = parsed.GetValue(sourceMac),
                MessageFile = parsed.GetValue(messageFile),
                WritePcap = parsed.GetValue(writePcap),
                Stdin = parsed.GetValue(stdinOption),
                ResumeWaitMilliseconds = parsed.GetValue(resumeWait),
                Message = text,
            };
            return Send(request, stdout, stderr, stdin ?? Console.In, transports);
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

    private static int Send(SendRequest request, TextWriter stdout, TextWriter stderr, TextReader stdin, IFrameTransportFactory? transports)
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

        byte[]? single = request.Stdin ? null : ReadMessage(request);
        if (request.WritePcap is null && request.SourceMac is not null)
        {
            throw new UsageException("--source-mac only applies with --write-pcap: injected frames carry the device's own MAC, as the kernel's do.");
        }

        IEnumerable<byte[]> texts = single is not null ? [single] : ReadLines(stdin);
        return request.WritePcap is not null
            ? WritePcap(request, options, texts, stdout)
            : SendLive(request, options, texts, stdout, stderr, transports);
    }

    private static IEnumerable<byte[]> ReadLines(TextReader stdin)
    {
        string? line;
        while ((line = stdin.ReadLine()) is not null)
        {
            yield return Encoding.UTF8.GetBytes(line);
        }
    }

    private static NetconsoleRecord NewRecord(SendRequest request, byte[] text, ulong sequence) =>
        new(request.Level, text)
        {
            Sequence = sequence,
            TimestampMicroseconds = request.TimestampMicroseconds ?? NetconsoleRecord.GetTimestampMicroseconds(),
        };

    // No device: the tool formats the records and builds the frames itself, destination MAC
    // the target's or broadcast, as the kernel would send them.
    private static int WritePcap(SendRequest request, NetconsoleTargetOptions options, IEnumerable<byte[]> texts, TextWriter stdout)
    {
        using PcapSink sink = PcapSink.Create(request.WritePcap!, CreateFrameBuilder(options, request.SourceMac),
            FrameLog.Route(options.LocalAddress!, options.LocalPort, options.RemoteAddress!, options.RemotePort), request.Stdin ? null : stdout);
        var formatter = new RecordFormatter(options.ToRecordFormat());
        ulong sequence = request.Sequence;
        long records = 0;
        foreach (byte[] text in texts)
        {
            FormattedRecord formatted = formatter.Format(NewRecord(request, text, sequence));
            foreach (ReadOnlySpan<byte> datagram in formatted)
            {
                sink.Send(datagram);
            }

            records++;
            sequence += (ulong)formatted.SequenceNumbersUsed;
        }

        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{records} record(s), {sequence - request.Sequence} sequence number(s), {sink.Sent} frame(s) {sink.Verb}, {sink.Dropped} dropped"));
        return 0;
    }

    // The library's target: the device by name, by MAC or by the route; the next hop resolved
    // when no remote MAC is given; outages ridden through (with --stdin) by its recovery.
    private static int SendLive(SendRequest request, NetconsoleTargetOptions options, IEnumerable<byte[]> texts, TextWriter stdout, TextWriter stderr, IFrameTransportFactory? transports)
    {
        using LiveTarget target = LiveTarget.Open(options, transports, stderr, TimeSpan.FromMilliseconds(request.ResumeWaitMilliseconds));
        ulong sequence = request.Sequence;
        long records = 0;
        foreach (byte[] text in texts)
        {
            // Consecutive numbers: the target moves later records up by what continued groups take.
            target.Send(NewRecord(request, text, sequence++));
            records++;
        }

        long dropped = target.Dropped;
        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{records} record(s), {target.FramesSent} frame(s) sent, {dropped} dropped"));

        // One record that did not go out is a failure; with --stdin, drops are counted and reported, as the kernel counts them.
        return !request.Stdin && dropped > 0 ? SendError : 0;
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

    private static byte[] ReadMessage(SendRequest request)
    {
        if (request.MessageFile is not null && request.Message is not null)
        {
            throw new UsageException("give the message either as MESSAGE or with --message-file, not both.");
        }

        if (request.MessageFile is not null)
        {
            byte[] bytes;
            try
            {
                bytes = File.ReadAllBytes(request.MessageFile.FullName);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new UsageException($"cannot read --message-file {request.MessageFile.FullName}: {e.Message}");
            }

            return bytes.Length > 0 && bytes[^1] == (byte)'\n' ? bytes[..^1] : bytes;
        }

        if (request.Message is null)
        {
            throw new UsageException("no message: give MESSAGE or --message-file FILE (example: netconsole-send --target \"+@192.0.2.1/,@192.0.2.2/\" --source-mac 02:00:00:00:00:01 --write-pcap out.pcap \"hello\").");
        }

        return Encoding.UTF8.GetBytes(request.Message);
    }

    private sealed class SendRequest
    {
        public required string Target { get; init; }

        public required string[] Userdata { get; init; }

        public string? Sysdata { get; init; }

        public string? Release { get; init; }

        public int Level { get; init; }

        public int? Facility { get; init; }

        public ulong Sequence { get; init; }

        public ulong? TimestampMicroseconds { get; init; }

        public string? SourceMac { get; init; }

        public FileInfo? MessageFile { get; init; }

        public FileInfo? WritePcap { get; init; }

        public bool Stdin { get; init; }

        public int ResumeWaitMilliseconds { get; init; }

        public string? Message { get; init; }
    }
}

/// <summary>Bad input on the command line: one clear line on stderr, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
