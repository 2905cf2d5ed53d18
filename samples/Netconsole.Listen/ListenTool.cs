using System.CommandLine;
using System.CommandLine.Help;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using Netconsole.Receiving;
using Netconsole.Samples;
using Netconsole.Wire;

namespace Netconsole.Listen;

/// <summary>
/// netconsole-listen: a netconsole receiver on the command line, like netconsd with its
/// printer. Records go to stdout, one line each; problems to stderr as they happen.
/// </summary>
internal static class ListenTool
{
    private static readonly string ToolVersion =
        typeof(ListenTool).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>Exit code when listening failed, or --timeout passed before --count records.</summary>
    public const int Failure = 1;

    /// <summary>Exit code for bad options.</summary>
    public const int UsageError = 2;

    /// <summary>Exit code when a signal's clean stop did not end within <see cref="StopGrace"/> (standard output blocked), or at a second signal: 3.</summary>
    public const int StoppedUnclean = 3;

    /// <summary>How long a signal's clean stop (the records still queued, the summary) may take before the process exits without it: 2 seconds.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(2);

    private const string Name = "netconsole-listen";

    /// <summary>The longest --timeout, in seconds: about 49.7 days, the longest a cancellation timer waits (2^32 - 2 ms).</summary>
    public const int MaxTimeoutSeconds = 4_294_967;

    // The library's defaults (32 MiB of unread records, 32 MiB for reassembly) budget a receiver
    // inside an application. This tool is a whole process: the runtime is ~40-50 MiB resident
    // before the first record (most of it the mapped framework), and under a flood the GC holds
    // the garbage of dropped records and closed groups, and free space, about as much again as
    // the receiver counts. With 32 + 64 MiB it reached 125-170 MiB resident in sustained lab
    // floods (bench/lab.sh flood); with 16 + 16 MiB still 117-123 under continued groups with its
    // output unread; with 8 + 8 MiB, 70-105 MiB. 8 MiB of unread records is ~10,000 records of
    // 800 bytes, the count limit anyway (NetconsoleReceiverOptions.Capacity).
    internal const long MaxQueuedBytes = 8L * 1024 * 1024;
    internal const long MaxBufferedBytes = 8L * 1024 * 1024;

    // How often senders' counters are compared for problems to report, while records flow or not.
    private static readonly TimeSpan CheckInterval = TimeSpan.FromMilliseconds(250);

    private const string Description =
        """
        Receive netconsole records over UDP and print each as one line on stdout:

          SENDER seq=SEQ ts=TS_USEC [release=REL] FACILITY.LEVEL [[N parts, M fragments]] TEXT<TAB>KEY=VALUE KEY=VALUE...

        SENDER is address:port, or the address alone with --by-address. TEXT, keys and values are
        UTF-8 with control characters, invalid bytes and '\' written as \xNN (in keys and values
        spaces too), so a record stays on one line and a TAB separates the text from its
        dictionary (its own lines, then userdata and sysdata). "N parts" is a continued group
        joined into one record; "M fragments" the datagrams it came in; "continuation" a '+'
        record whose group was lost. Basic-format text prints as SENDER legacy TEXT.

        Lost records, malformed datagrams, duplicates, incomplete records and restarts go to
        stderr as they happen ("192.0.2.1:6665: 2 records lost (seq 3-4)"), and a summary per
        sender at exit (Ctrl+C, SIGTERM, --count, --timeout).

        Exit codes: 0 done; 1 cannot listen, or --timeout passed before --count records; 2 bad options.
        """;

    /// <summary>
    /// The process's entry: <see cref="RunAsync(string[], TextWriter, TextWriter, CancellationToken)"/>
    /// with standard output and error guarded (a failed write is one line and exit code 1), and a
    /// last resort for anything nothing else caught, so no stack trace reaches the user.
    /// </summary>
    public static Task<int> RunProcessAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken) =>
        ToolProcess.RunAsync(Name, Failure, stdout, stderr, (output, errors) => RunAsync(args, output, errors, cancellationToken));

    public static Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, CancellationToken cancellationToken) =>
        RunAsync(args, stdout, stderr, listening: null, cancellationToken);

    /// <summary>Runs the tool; <paramref name="listening"/> is told the bound endpoint (tests listen on port 0).</summary>
    public static async Task<int> RunAsync(string[] args, TextWriter stdout, TextWriter stderr, Action<IPEndPoint>? listening, CancellationToken cancellationToken)
    {
        var address = new Option<string?>("--address") { Description = "The local address to listen on; default [::] (IPv4 and IPv6), or 0.0.0.0 without IPv6" };
        Option<int?> port = Number<int>("--port", "a whole number from 0 to 65535", TryParseInt);
        port.Description = "The UDP port to listen on (0: any free port, printed on stderr); default 6666";
        var byAddress = new Option<bool>("--by-address") { Description = "Tell senders apart by address only, as netconsd does (default: address and port)" };
        var raw = new Option<bool>("--raw") { Description = "Print each datagram as it arrives (SENDER N bytes: PAYLOAD) instead of records, without reassembly" };
        Option<int?> count = Number<int>("--count", "a whole number from 1 to 2147483647", TryParseInt);
        count.Description = "Exit after printing this many records (datagrams with --raw)";
        Option<double?> timeout = Number<double>("--timeout", "a number of seconds above 0 and at most 4294967", TryParseSeconds);
        timeout.Description = "Exit after this many seconds, at most 4294967 (49 days); exit code 1 if --count records did not all arrive";
        var keyFile = new Option<string[]>("--key") { Description = "KEYID=FILE: check signed records with this key, its secret in base64 in FILE (repeat for several keys); the secret is never taken on the command line", AllowMultipleArgumentsPerToken = false };
        var keyEnvironment = new Option<string[]>("--key-env") { Description = "KEYID=VARIABLE: as --key, the secret in base64 in this environment variable" };
        var requireVerified = new Option<bool>("--require-verified") { Description = "Print only records whose signature verified (the rest are counted); needs --key or --key-env" };
        var root = new RootCommand(Description) { address, port, byAddress, raw, count, timeout, keyFile, keyEnvironment, requireVerified };
        root.Directives.Clear();

        // The parser would drop a leading "[name]" as a directive: an argument like any other here, refused as one.
        if (args.Length > 0 && args[0].Length > 2 && args[0][0] == '[' && args[0][^1] == ']')
        {
            stderr.WriteLine($"{Name}: unexpected argument {args[0]} (see --help)");
            return UsageError;
        }

        ParseResult parsed = root.Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        if (parsed.Errors.Count > 0)
        {
            stderr.WriteLine($"{Name}: {string.Join("; ", parsed.Errors.Select(e => e.Message))} (see --help)");
            return UsageError;
        }

        // The version is this tool's, also when another program hosts it (the parser's own would print the entry assembly's).
        if (parsed.GetResult(root.Options.OfType<VersionOption>().Single()) is not null)
        {
            stdout.WriteLine(ToolVersion);
            return 0;
        }

        if (parsed.Action is HelpAction)
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }

        Settings settings;
        try
        {
            settings = Validate(parsed.GetValue(address), parsed.GetValue(port) ?? 6666, parsed.GetValue(count), parsed.GetValue(timeout)) with
            {
                Keys = Keys(parsed.GetValue(keyFile) ?? [], parsed.GetValue(keyEnvironment) ?? []),
                RequireVerified = parsed.GetValue(requireVerified),
            };
            if (settings.RequireVerified && settings.Keys.Count == 0)
            {
                throw new UsageException("--require-verified needs a key: give --key KEYID=FILE or --key-env KEYID=VARIABLE");
            }
        }
        catch (UsageException e)
        {
            stderr.WriteLine($"{Name}: {e.Message}");
            return UsageError;
        }

        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        if (settings.Timeout is TimeSpan limit)
        {
            stop.CancelAfter(limit);
        }

        try
        {
            return parsed.GetValue(raw)
                ? await RunRawAsync(settings, stdout, stderr, listening, stop.Token, cancellationToken).ConfigureAwait(false)
                : await RunRecordsAsync(settings, parsed.GetValue(byAddress), stdout, stderr, listening, stop.Token, cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e)
        {
            stderr.WriteLine($"{Name}: cannot listen on {settings.EndPoint}: {e.Message}");
            return Failure;
        }
    }

    private delegate bool TryParse<T>(string text, out T value);

    private static bool TryParseInt(string text, out int value) =>
        int.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value);

    private static bool TryParseSeconds(string text, out double value) =>
        double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out value);

    // A number option whose parse error says what a valid value is, not the parser's type name.
    private static Option<T?> Number<T>(string name, string valid, TryParse<T> tryParse)
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

                result.AddError($"{name} \"{text}\" is not {valid}.");
                return null;
            },
        };

    private static Settings Validate(string? addressText, int port, int? count, double? timeoutSeconds)
    {
        IPAddress address;
        if (addressText is null)
        {
            address = Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any;
        }
        else if (!IPAddress.TryParse(addressText.Trim('[', ']'), out address!))
        {
            throw new UsageException($"--address \"{addressText}\" is not an IP address (examples: 0.0.0.0, ::, 192.0.2.2, ::1).");
        }

        if (port is < 0 or > 65535)
        {
            throw new UsageException($"--port {port} is out of range: use 0 to 65535.");
        }

        if (count is < 1)
        {
            throw new UsageException($"--count {count} must be at least 1.");
        }

        TimeSpan? timeout = null;
        if (timeoutSeconds is double seconds)
        {
            // A timer's longest delay is 2^32 - 2 ms, about 49.7 days.
            if (!(seconds > 0 && seconds <= MaxTimeoutSeconds))
            {
                throw new UsageException(string.Create(CultureInfo.InvariantCulture,
                    $"--timeout {seconds} is out of range: give a number of seconds above 0 and at most {MaxTimeoutSeconds} (49 days); leave it out to listen until Ctrl+C."));
            }

            timeout = TimeSpan.FromSeconds(seconds);
        }

        return new Settings(new IPEndPoint(address, port), count, timeout);
    }

    private static async Task<int> RunRecordsAsync(
        Settings settings, bool byAddress, TextWriter stdout, TextWriter stderr, Action<IPEndPoint>? listening,
        CancellationToken stop, CancellationToken interrupted)
    {
        var options = new NetconsoleReceiverOptions
        {
            SenderKey = byAddress ? SenderKey.Address : SenderKey.AddressAndPort,
            MaxQueuedBytes = MaxQueuedBytes,
        };
        options.Reassembler.MaxBufferedBytes = MaxBufferedBytes;
        options.Reassembler.RequireVerifiedRecords = settings.RequireVerified;
        foreach (RecordSigningKey key in settings.Keys)
        {
            options.Reassembler.SigningKeys.Add(key);
        }

        bool checksSignatures = settings.Keys.Count > 0;
        NetconsoleReceiver receiver = NetconsoleReceiver.Listen(settings.EndPoint, options);
        var reporter = new ProblemReporter(receiver, stderr);
        var output = new LineWriter(stdout);
        int printed = 0;
        using var receiverCheck = new Timer(
            static state =>
            {
                try
                {
                    ((ProblemReporter)state!).CheckReceiver();
                }
                catch (OutputFailedException)
                {
                    // Standard error is gone: the printing loop meets it too and ends the tool.
                }
            },
            reporter,
            CheckInterval,
            CheckInterval);
        try
        {
            stderr.WriteLine($"{Name}: listening on {receiver.LocalEndPoint} (senders told apart by {(byAddress ? "address" : "address and port")})");
            listening?.Invoke(receiver.LocalEndPoint);
            long lastCheck = Stopwatch.GetTimestamp();
            while (printed < settings.Count)
            {
                while (printed < settings.Count && receiver.TryRead(out ReceivedRecord? record))
                {
                    reporter.BeforeRecord(record);
                    output.Print(record, checksSignatures);
                    printed++;
                    if (Stopwatch.GetElapsedTime(lastCheck) >= CheckInterval)
                    {
                        break; // a stream that never pauses still gets its checks and its lines written
                    }
                }

                // Lines are written a buffer at a time while records wait, and at once when none do.
                stdout.Flush();
                if (Stopwatch.GetElapsedTime(lastCheck) >= CheckInterval)
                {
                    reporter.CheckAll();
                    lastCheck = Stopwatch.GetTimestamp();
                }

                if (printed >= settings.Count || !await WaitAsync(receiver, stop).ConfigureAwait(false))
                {
                    break;
                }
            }
        }
        finally
        {
            await receiver.DisposeAsync().ConfigureAwait(false);
        }

        // Stopped by a signal or --timeout: print what the flush delivered (held continued groups).
        while (printed < settings.Count && receiver.TryRead(out ReceivedRecord? record))
        {
            reporter.BeforeRecord(record);
            output.Print(record, checksSignatures);
            printed++;
        }

        stdout.Flush();

        reporter.CheckAll();
        reporter.PrintSummary();
        return Outcome(settings, printed, "records", stderr, stop, interrupted);
    }

    // True when a record can be read; false when it is time to stop. Wakes up every CheckInterval.
    private static async Task<bool> WaitAsync(NetconsoleReceiver receiver, CancellationToken stop)
    {
        using var tick = CancellationTokenSource.CreateLinkedTokenSource(stop);
        tick.CancelAfter(CheckInterval);
        try
        {
            // false: the receiver stopped by itself (its socket was closed).
            return await receiver.WaitToReadAsync(tick.Token).ConfigureAwait(false) && !stop.IsCancellationRequested;
        }
        catch (OperationCanceledException)
        {
            return !stop.IsCancellationRequested;
        }
    }

    private static async Task<int> RunRawAsync(
        Settings settings, TextWriter stdout, TextWriter stderr, Action<IPEndPoint>? listening,
        CancellationToken stop, CancellationToken interrupted)
    {
        using var socket = new Socket(settings.EndPoint.AddressFamily, SocketType.Dgram, ProtocolType.Udp);
        if (settings.EndPoint.Address.Equals(IPAddress.IPv6Any))
        {
            socket.DualMode = true;
        }

        socket.Bind(settings.EndPoint);
        var local = (IPEndPoint)socket.LocalEndPoint!;
        stderr.WriteLine($"{Name}: listening on {local} (raw datagrams)");
        listening?.Invoke(local);

        byte[] buffer = new byte[64 * 1024];
        EndPoint any = new IPEndPoint(local.AddressFamily == AddressFamily.InterNetwork ? IPAddress.Any : IPAddress.IPv6Any, 0);
        var output = new LineWriter(stdout);
        int printed = 0;
        long errors = 0;
        while (printed < settings.Count && !stop.IsCancellationRequested)
        {
            SocketReceiveFromResult result;
            try
            {
                result = await socket.ReceiveFromAsync(buffer, SocketFlags.None, any, stop).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                break;
            }
            catch (SocketException e) when (!stop.IsCancellationRequested)
            {
                errors++;
                stderr.WriteLine($"{Name}: socket error: {e.Message}");
                continue;
            }

            var sender = (IPEndPoint)result.RemoteEndPoint;
            if (sender.Address.IsIPv4MappedToIPv6)
            {
                sender = new IPEndPoint(sender.Address.MapToIPv4(), sender.Port);
            }

            output.PrintDatagram(sender, buffer.AsSpan(0, result.ReceivedBytes));
            printed++;
            if (socket.Available == 0)
            {
                stdout.Flush(); // nothing else waiting: the lines go out now
            }
        }

        stdout.Flush();

        stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Name}: {printed} datagrams, {errors} socket errors"));
        return Outcome(settings, printed, "datagrams", stderr, stop, interrupted);
    }

    private static int Outcome(Settings settings, int printed, string what, TextWriter stderr, CancellationToken stop, CancellationToken interrupted)
    {
        bool timedOut = stop.IsCancellationRequested && !interrupted.IsCancellationRequested;
        if (timedOut && settings.Count != int.MaxValue && printed < settings.Count)
        {
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Name}: timed out after {settings.Timeout!.Value.TotalSeconds} s with {printed} of {settings.Count} {what}"));
            return Failure;
        }

        return 0;
    }

    private sealed record Settings(IPEndPoint EndPoint, int? CountOption, TimeSpan? Timeout)
    {
        public int Count => CountOption ?? int.MaxValue;

        public List<RecordSigningKey> Keys { get; init; } = [];

        public bool RequireVerified { get; init; }
    }

    // KEYID=FILE and KEYID=VARIABLE: the keys, their secrets read from where they are (never the
    // command line, which every user of the machine can see in the process list).
    private static List<RecordSigningKey> Keys(string[] files, string[] variables)
    {
        var keys = new List<RecordSigningKey>();
        foreach ((string option, string value, bool fromFile) in files.Select(f => ("--key", f, true)).Concat(variables.Select(v => ("--key-env", v, false))))
        {
            int equals = value.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0 || equals == value.Length - 1)
            {
                throw new UsageException($"{option} takes KEYID={(fromFile ? "FILE" : "VARIABLE")}, not \"{value}\"");
            }

            string keyId = value[..equals];
            string source = value[(equals + 1)..];
            string secret;
            if (fromFile)
            {
                try
                {
                    secret = File.ReadAllText(source);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
                {
                    throw new UsageException($"{option} {keyId}: cannot read {source}: {e.Message}");
                }
            }
            else
            {
                secret = Environment.GetEnvironmentVariable(source) ?? throw new UsageException($"{option} {keyId}: the environment variable {source} is not set");
            }

            try
            {
                keys.Add(RecordSigningKey.FromBase64(keyId, secret));
            }
            catch (ArgumentException e)
            {
                throw new UsageException($"{option} {keyId}: {e.Message.Split(" (Parameter", 2)[0]}");
            }
        }

        return keys;
    }

    /// <summary>Compares senders' counters with the last look and tells stderr what went wrong since.</summary>
    internal sealed class ProblemReporter(NetconsoleReceiver receiver, TextWriter stderr)
    {
        /// <summary>
        /// Senders whose last look (counters, highest number printed) is kept: as many as the
        /// receiver itself accounts for, those it tracks (1024) and four times as many evicted whose
        /// sequence position it keeps. The least recently looked at go first, so a flood from
        /// spoofed addresses, each new, cannot grow the tool's memory without bound (it grew by
        /// ~350 bytes a sender, forever: 172 MiB resident after 300,000 of them).
        /// </summary>
        internal const int MaxSendersRemembered = 5 * RecordReassemblerOptions.DefaultMaxSenders;

        private readonly Dictionary<IPEndPoint, Remembered> _senders = new();
        private readonly LinkedList<Remembered> _recent = new(); // most recently looked at first
        private readonly Lock _receiverLock = new();
        private long _unreadDropped;
        private long _socketErrors;

        public void BeforeRecord(ReceivedRecord record)
        {
            // The usual case, the next number of a sender already seen, has nothing to say now (the
            // periodic CheckAll reports the sender's other counters): no look at the receiver's
            // statistics, which waits for the receive thread's lock and allocates a snapshot.
            if (record.IsExtended && _senders.TryGetValue(record.Sender, out Remembered? known)
                && known.Highest is ulong printedHighest && printedHighest != ulong.MaxValue && record.Sequence == printedHighest + 1)
            {
                known.Highest = record.LastSequence;
                MakeMostRecent(known);
                return;
            }

            SenderStatistics? now = receiver.GetSenderStatistics(record.Sender);
            Check(record.Sender, now);
            if (!record.IsExtended)
            {
                return;
            }

            // Restarts are told with the record that shows them, so it is not taken for a late one.
            Remembered remembered = Remember(record.Sender);
            long restarts = 0;
            if (now is not null)
            {
                restarts = now.Restarts - remembered.Restarts;
                remembered.Restarts = now.Restarts;
            }

            string sender = RecordPrinter.FormatSender(record.Sender);
            if (remembered.Highest is not ulong highest)
            {
                remembered.Highest = record.LastSequence;
            }
            else if (restarts > 0)
            {
                stderr.WriteLine($"{sender}: sequence numbers started over at seq {record.Sequence} (the sender restarted)");
                remembered.Highest = record.LastSequence;
            }
            else if (record.Sequence > highest + 1)
            {
                ulong first = highest + 1;
                ulong last = record.Sequence - 1;
                ulong lost = last - first + 1;
                string range = first == last ? $"seq {first}" : $"seq {first}-{last}";
                stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{sender}: {lost} {Plural(lost, "record")} lost ({range})"));
                remembered.Highest = record.LastSequence;
            }
            else if (record.Sequence <= highest)
            {
                stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{sender}: seq {record.Sequence} arrived out of order"));
            }
            else
            {
                remembered.Highest = record.LastSequence;
            }
        }

        /// <summary>Senders whose last look is kept now (at most <see cref="MaxSendersRemembered"/>).</summary>
        internal int SendersRemembered => _senders.Count;

        // The sender's last look, now the most recent; a new one may push out the least recent.
        private Remembered Remember(IPEndPoint sender)
        {
            if (_senders.TryGetValue(sender, out Remembered? remembered))
            {
                MakeMostRecent(remembered);
                return remembered;
            }

            remembered = new Remembered(sender);
            _senders.Add(sender, remembered);
            _recent.AddFirst(remembered.Node);
            if (_senders.Count > MaxSendersRemembered)
            {
                Remembered oldest = _recent.Last!.Value;
                _recent.RemoveLast();
                _senders.Remove(oldest.Sender);
            }

            return remembered;
        }

        private void MakeMostRecent(Remembered remembered)
        {
            if (_recent.First != remembered.Node)
            {
                _recent.Remove(remembered.Node);
                _recent.AddFirst(remembered.Node);
            }
        }

        public void CheckAll()
        {
            foreach (SenderStatistics now in receiver.GetAllSenderStatistics())
            {
                Check(now.Sender, now);
            }

            CheckReceiver();
        }

        /// <summary>
        /// The receiver's own losses (records dropped unread, socket errors). Also run by a timer
        /// of its own: when standard output blocks (a pipe nobody reads), the printing loop is
        /// stuck in a write, and these are exactly what must still be said, on stderr.
        /// </summary>
        public void CheckReceiver()
        {
            lock (_receiverLock)
            {
                NetconsoleReceiverStatistics total = receiver.GetStatistics();
                if (total.RecordsDroppedUnread > _unreadDropped)
                {
                    long n = total.RecordsDroppedUnread - _unreadDropped;
                    stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Name}: {n} {Plural(n, "record")} dropped unread (output too slow)"));
                    _unreadDropped = total.RecordsDroppedUnread;
                }

                if (total.SocketErrors > _socketErrors)
                {
                    long n = total.SocketErrors - _socketErrors;
                    stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{Name}: {n} socket {Plural(n, "error")}"));
                    _socketErrors = total.SocketErrors;
                }
            }
        }

        public void PrintSummary()
        {
            NetconsoleReceiverStatistics total = receiver.GetStatistics();
            stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{Name}: {Counted(total.RecordsReceived, "record")} from {Counted(total.DatagramsReceived, "datagram")}, {Counted(total.Reassembler.SendersTracked, "sender")}; {total.RecordsDroppedUnread} dropped unread, {Counted(total.SocketErrors, "socket error")}"));
            ReassemblerStatistics r = total.Reassembler;
            if (r.RecordsVerified + r.SignaturesInvalid + r.SignaturesWithUnknownKey + r.ReplaysRejected + r.RecordsRejectedUnverified > 0)
            {
                stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{Name}: signatures: {r.RecordsVerified} verified, {r.SignaturesInvalid} invalid, {r.SignaturesWithUnknownKey} with an unknown key, {Counted(r.ReplaysRejected, "replay")} rejected, {r.RecordsRejectedUnverified} unverified rejected"));
            }
            foreach (SenderStatistics s in receiver.GetAllSenderStatistics().OrderBy(s => s.Sender.ToString(), StringComparer.Ordinal))
            {
                stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"  {RecordPrinter.FormatSender(s.Sender)}: {Counted(s.RecordsReceived, "record")}, {Counted(s.DatagramsReceived, "datagram")}, {Counted(s.FragmentsReceived, "fragment")}, {s.RecordsLost} lost, {s.RecordsOutOfOrder} out of order, {Counted(s.DuplicatesIgnored, "duplicate")}, {s.DatagramsMalformed} malformed, {s.RecordsIncomplete} incomplete, {Counted(s.Restarts, "restart")}"));
            }
        }

        // Reports what went wrong for one sender since the last look.
        private void Check(IPEndPoint key, SenderStatistics? now)
        {
            if (now is null)
            {
                return;
            }

            Remembered remembered = Remember(key);
            SenderStatistics? before = remembered.Seen;
            remembered.Seen = now;
            string sender = RecordPrinter.FormatSender(key);
            Report(sender, now.DatagramsMalformed - (before?.DatagramsMalformed ?? 0), "malformed datagram", "malformed datagrams");
            Report(sender, now.DuplicatesIgnored - (before?.DuplicatesIgnored ?? 0), "duplicate ignored", "duplicates ignored");
            long incomplete = now.RecordsIncomplete - (before?.RecordsIncomplete ?? 0);
            if (incomplete > 0)
            {
                long missing = now.BytesMissing - (before?.BytesMissing ?? 0);
                stderr.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{sender}: {incomplete} {Plural(incomplete, "record")} incomplete, given up ({missing} bytes missing)"));
            }

            Report(sender, now.RecordsDropped - (before?.RecordsDropped ?? 0), "incomplete record dropped (limit)", "incomplete records dropped (limit)");
            Report(sender, now.GroupsClosedEarly - (before?.GroupsClosedEarly ?? 0), "continued group cut (too large)", "continued groups cut (too large)");
        }

        private void Report(string sender, long n, string one, string many)
        {
            if (n > 0)
            {
                stderr.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{sender}: {n} {(n == 1 ? one : many)}"));
            }
        }

        private static string Plural(ulong n, string word) => n == 1 ? word : word + "s";

        private static string Plural(long n, string word) => n == 1 ? word : word + "s";

        private static string Counted(long n, string word) => string.Create(CultureInfo.InvariantCulture, $"{n} {Plural(n, word)}");

        // One sender's last look: its counters, its highest number printed, its restarts so far.
        private sealed class Remembered
        {
            public Remembered(IPEndPoint sender)
            {
                Sender = sender;
                Node = new LinkedListNode<Remembered>(this);
            }

            public IPEndPoint Sender { get; }

            public LinkedListNode<Remembered> Node { get; }

            public SenderStatistics? Seen { get; set; }

            public ulong? Highest { get; set; }

            public long Restarts { get; set; }
        }
    }
}

/// <summary>Bad input on the command line: one clear line on stderr, exit code 2.</summary>
internal sealed class UsageException(string message) : Exception(message);
