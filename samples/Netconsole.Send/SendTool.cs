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
/// netconsole-send: like logger(1), for netconsole. Formats records for a target given in the
/// kernel's syntax and injects their frames on the target's device, or writes them to a pcap file.
/// </summary>
internal static class SendTool
{
    /// <summary>Exit code for bad input (syntax, MAC, file).</summary>
    public const int UsageError = 2;

    // logger(1) and /dev/kmsg default to notice; the kernel selftests' records are prio 13 (user.notice).
    private const int DefaultLevel = 5;

    /// <summary>Exit code for a failure while sending (device missing or gone, no permission, libpcap missing).</summary>
    public const int SendError = 1;

    public static int Run(string[] args, TextWriter stdout, TextWriter stderr, TextReader? stdin = null, IFrameTransportFactory? transports = null)
    {
        var target = new Option<string>("--target")
        {
            Description = "The target in the kernel's netconsole= syntax: [+][r][src-port]@[src-ip]/[dev],[tgt-port]@<tgt-ip>/[tgt-mac]",
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
        var writePcap = new Option<FileInfo?>("--write-pcap") { Description = "Write the frames to this pcap file (Ethernet link type) instead of injecting them" };
        var stdinOption = new Option<bool>("--stdin") { Description = "Send every line read from standard input as one record until EOF (sequence numbers count up from --seq)" };
        var message = new Argument<string?>("MESSAGE") { Description = "The message text", Arity = ArgumentArity.ZeroOrOne };

        var root = new RootCommand("Send a record to a netconsole receiver, like logger(1) for netconsole.")
        {
            target, userdata, sysdata, release, level, facility, seq, timestamp, sourceMac, messageFile, writePcap, stdinOption, message,
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
                Message = text,
            };
            return Send(request, stdout, stderr, stdin ?? Console.In, transports ?? new SharpPcapTransportFactory());
        }
        catch (FrameTransportException e)
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

    private static int Send(SendRequest request, TextWriter stdout, TextWriter stderr, TextReader stdin, IFrameTransportFactory transports)
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

        byte[]? single = request.Stdin ? null : ReadMessage(request);
        if (request.WritePcap is null && request.SourceMac is not null)
        {
            throw new UsageException("--source-mac only applies with --write-pcap: injected frames carry the device's own MAC, as the kernel's do.");
        }

        using IDatagramSink sink = request.WritePcap is not null
            ? PcapSink.Create(request.WritePcap, CreateFrameBuilder(options, request.SourceMac),
                FrameLog.Route(options.LocalAddress!, options.LocalPort, options.RemoteAddress!, options.RemotePort), request.Stdin ? null : stdout)
            : LiveSink.Open(options, transports, request.Stdin ? null : stdout, stderr);
        var formatter = new RecordFormatter(options);
        ulong sequence = request.Sequence;
        long records = 0;
        if (single is not null)
        {
            sequence += SendRecord(single);
        }
        else
        {
            string? line;
            while ((line = stdin.ReadLine()) is not null)
            {
                sequence += SendRecord(Encoding.UTF8.GetBytes(line));
            }
        }

        stdout.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{records} record(s), {sequence - request.Sequence} sequence number(s), {sink.Sent} frame(s) {sink.Verb}, {sink.Dropped} dropped"));
        return 0;

        ulong SendRecord(byte[] text)
        {
            var record = new NetconsoleRecord(request.Level, text)
            {
                Sequence = sequence,
                TimestampMicroseconds = request.TimestampMicroseconds ?? MonotonicMicroseconds(),
            };
            FormattedRecord formatted = formatter.Format(record);
            foreach (ReadOnlySpan<byte> datagram in formatted)
            {
                sink.Send(datagram);
            }

            records++;
            return (ulong)formatted.SequenceNumbersUsed;
        }
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

        // Without a remote MAC the kernel sends to broadcast; so do the frames written here.
        PhysicalAddress destinationMac = options.RemoteMac ?? LiveSink.Broadcast;
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

    private static ulong MonotonicMicroseconds() =>
        (ulong)(Stopwatch.GetTimestamp() / (double)Stopwatch.Frequency * 1_000_000);

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

        public string? Message { get; init; }
    }
}

/// <summary>Bad input on the command line: one clear line on stderr, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
