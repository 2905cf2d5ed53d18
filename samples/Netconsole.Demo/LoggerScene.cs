using System.Net;
using System.Runtime.CompilerServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Netconsole.Receiving;
using Netconsole.Targets;

namespace Netconsole.Demo;

/// <summary>
/// Scene 1: ILogger to [::1] on lo. A receiver in this process on [::1]:6666; a logger whose
/// target is the embedded default "+@/lo,@::1/" (extended format). Four records: a plain one,
/// a 5 KiB one (fragmented on the wire, one record at the receiver), one with a scope and
/// structured state (dictionary lines), and one with an exception (one record, stack trace included).
/// </summary>
internal static class LoggerScene
{
    public const string Name = "1. ILogger to [::1] on lo";
    public const string Target = "+@/lo,@::1/";
    private const int Logged = 4;

    public static async Task<SceneResult> RunAsync(TextWriter output)
    {
        output.WriteLine($"== {Name}");
        output.WriteLine($"   receiver on [::1]:6666; logger target \"{Target}\" (extended; lo and ::1 are the embedded default)");
        await using NetconsoleReceiver receiver = NetconsoleReceiver.Listen(new IPEndPoint(IPAddress.IPv6Loopback, 6666));
        await using LoggingHost host = LoggingHost.Create(o => o.Targets.Add(Target));
        if (!LoggingHost.WaitFor(host.Target, TargetState.Enabled, TimeSpan.FromSeconds(5)))
        {
            output.WriteLine($"   target did not come up: {host.Target}");
            return new SceneResult(Name, 0, 0, 0, Passed: false, $"target {host.Target}");
        }

        ILogger logger = host.Factory.CreateLogger("Demo.Shop");

        DemoLog.ShopStarted(logger, "shop-1");

        // 5 KiB of text in one call: netconsole fragments it (ncfrag=), the receiver reassembles it.
        string big = BigText(5 * 1024);
        logger.Log(LogLevel.Information, default, big, null, (text, _) => text);

        // A scope and structured state: each becomes a KEY=VALUE dictionary line of the record.
        using (DemoLog.OrderScope(logger, 4711))
        {
            DemoLog.PaymentDeclined(logger, "p-17", 12.5);
        }

        // An exception with a real stack trace: the whole of it travels inside the one record.
        try
        {
            Checkout.Charge(4711);
        }
        catch (InvalidOperationException ex)
        {
            DemoLog.CheckoutFailed(logger, ex, 4711);
        }

        host.Flush();
        List<ReceivedRecord> records = await Records.ReceiveAsync(receiver, Logged, TimeSpan.FromSeconds(5));
        output.WriteLine($"   logged {Logged} records, received {records.Count}:");
        foreach (ReceivedRecord record in records)
        {
            output.WriteLine("     " + Records.Line(record));
        }

        var problems = new List<string>();
        if (records.Count == Logged)
        {
            ReceivedRecord fragmented = records[1];
            output.WriteLine($"   the 5 KiB record: 1 record at the receiver, reassembled from {fragmented.FragmentCount} fragments, text intact: {fragmented.TextString == big}");
            Check(fragmented.TextString == big && fragmented.FragmentCount > 1, "the 5 KiB record did not arrive whole from several fragments", problems);

            ReceivedRecord structured = records[2];
            output.WriteLine("   the structured record's dictionary lines:");
            foreach (KeyValuePair<string, string> pair in structured.Dictionary)
            {
                output.WriteLine($"     {pair.Key}={pair.Value}");
            }

            Check(structured.Dictionary.Any(p => p.Value.Contains("4711", StringComparison.Ordinal)), "the scope's OrderId is not in the dictionary", problems);
            Check(structured.Dictionary.Any(p => p.Value == "p-17"), "PaymentId is not in the dictionary", problems);

            string error = records[3].TextString;
            int frames = error.Split('\n').Count(l => l.TrimStart().StartsWith("at ", StringComparison.Ordinal));
            output.WriteLine($"   the exception record: one record of {error.Split('\n').Length} lines, {frames} stack frames, names {nameof(InvalidOperationException)}: {error.Contains(nameof(InvalidOperationException), StringComparison.Ordinal)}");
            Check(error.Contains(nameof(InvalidOperationException), StringComparison.Ordinal) && frames > 0, "the exception record lacks the exception or its stack", problems);
        }
        else
        {
            problems.Add($"received {records.Count} of {Logged} records");
        }

        Check(Records.InOrder(records), "records arrived out of sequence order", problems);
        output.WriteLine($"   sequence numbers: {string.Join(", ", records.Select(r => r.Sequence))}");
        output.WriteLine("   " + Records.Statistics(host.Target));
        problems.ForEach(p => output.WriteLine("   PROBLEM: " + p));
        output.WriteLine();
        return new SceneResult(Name, Logged, records.Count, host.Target.GetStatistics().RecordsDropped, problems.Count == 0, problems.FirstOrDefault());
    }

    internal static void Check(bool condition, string problem, List<string> problems)
    {
        if (!condition)
        {
            problems.Add(problem);
        }
    }

    private static string BigText(int length)
    {
        var text = new StringBuilder(length);
        for (int i = 0; text.Length < length; i++)
        {
            text.Append(System.Globalization.CultureInfo.InvariantCulture, $"line {i:D4} of a long report; ");
        }

        return text.ToString(0, length);
    }

    // Two frames deep so the stack trace has something to show.
    private static class Checkout
    {
        [MethodImpl(MethodImplOptions.NoInlining)]
        public static void Charge(int orderId) => CallProcessor(orderId);

        [MethodImpl(MethodImplOptions.NoInlining)]
        private static void CallProcessor(int orderId) =>
            throw new InvalidOperationException($"the card processor timed out for order {orderId}");
    }
}
