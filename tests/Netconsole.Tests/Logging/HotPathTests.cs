using System.Globalization;
using System.Net.NetworkInformation;
using System.Numerics;
using System.Text;
using Microsoft.Extensions.Logging;
using Netconsole.Logging;
using Netconsole.Receiving;
using Netconsole.Targets;
using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Tests.Logging;

/// <summary>
/// What a logging call costs the application's thread and a record costs the sender thread:
/// allocations (measured, so these tests fail when a change adds one), and values captured by
/// reference rendering as they would have on the logging thread.
/// </summary>
public sealed class HotPathTests : IDisposable
{
    private static readonly TimeSpan Timeout = LoggingHarness.Timeout;
    private readonly LoggingHarness _harness = new();

    public void Dispose() => _harness.Dispose();

    private enum Warehouse
    {
        North = 1,
    }

    [Fact]
    public void The_sender_thread_allocates_nothing_per_record_in_steady_state()
    {
        var eventId = new EventId(1007, "Shipped");
        int orderId = 100_000;

        // Every record has an order id never seen before: its text is written into the datagram, not made into a string.
        SenderAllocationsPerWindow(
            logger => logger.LogInformation(eventId, "order {OrderId} shipped to {Warehouse} from {Region}", ++orderId, "north", Warehouse.North),
            datagramsPerRecord: 1,
            warmUpBatches: 100,
            windowBatches: 50);
    }

    [Fact]
    public void The_sender_thread_allocates_nothing_to_cut_a_long_value()
    {
        string payload = new('x', 5000);

        // A 5000-byte text with the value cut to 256 bytes: one record of 6 fragments.
        SenderAllocationsPerWindow(
            logger => logger.LogInformation("payload {Payload}", payload),
            datagramsPerRecord: 6,
            warmUpBatches: 20,
            windowBatches: 10);
    }

    // Fails unless some window of records costs the sender thread no allocation at all.
    private void SenderAllocationsPerWindow(Action<ILogger> logOne, int datagramsPerRecord, int warmUpBatches, int windowBatches)
    {
        var transports = new AllocationMeteringTransportFactory();
        NetconsoleTargetOptions target = NetconsoleTargetOptions.Parse(LoggingHarness.Extended);
        target.Sysdata = SysdataFields.Cpu | SysdataFields.TaskName;
        var options = new NetconsoleLoggerOptions
        {
            ManagerOptions = () => new TargetManagerOptions { Watcher = _harness.Watcher, TransportFactory = transports },
        };
        options.TargetOptions.Add(target);
        using var provider = new NetconsoleLoggerProvider(options);
        using ILoggerFactory factory = LoggerFactory.Create(b => b.AddProvider(provider));
        ILogger logger = factory.CreateLogger("Shop.Orders");
        void LogBatch()
        {
            for (int i = 0; i < 8; i++)
            {
                logOne(logger);
            }

            provider.Flush(Timeout).Should().BeTrue();
        }

        // Warm up: slots, buffers, value texts, and the JIT's tiering of every formatting path
        // (numbers, dates, enums): give the background tier-1 compiles time to land.
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < warmUpBatches; i++)
            {
                LogBatch();
            }

            Thread.Sleep(150);
        }

        // A per-record allocation shows in every window; a one-off (a method being recompiled on
        // the sender thread, say) in one only.
        var windows = new List<long>();
        // Tiered compilation installs promoted code on the thread that calls it, which allocates
        // a little now and then (none with DOTNET_TieredCompilation=0): a pause between windows
        // lets the background compiles land; a real per-record allocation shows in every window.
        for (int window = 0; window < 20 && !windows.Contains(0); window++)
        {
            Thread.Sleep(100);
            int first = transports.Sends;
            for (int i = 0; i < windowBatches; i++)
            {
                LogBatch();
            }

            int last = transports.Sends - 1;
            (last - first).Should().Be((windowBatches * 8 * datagramsPerRecord) - 1, "{0} datagram(s) per record", datagramsPerRecord);
            windows.Add(transports.AllocatedAt(last) - transports.AllocatedAt(first));
        }

        windows.Should().Contain(0, "the sender thread allocates nothing per record in steady state (bytes per window of {0} records: {1})", windowBatches * 8, string.Join(", ", windows));
    }

    [Fact]
    public void A_logging_call_allocates_nothing_beyond_the_message_when_values_are_immutable()
    {
        using NetconsoleLoggerProvider provider = _harness.Provider();
        provider.SetScopeProvider(new LoggerExternalScopeProvider());
        ILogger logger = provider.CreateLogger("Shop.Orders");
        var state = new PairsState(("OrderId", 4711), ("Warehouse", "north"), ("At", new DateTime(2024, 5, 1)), ("Region", Warehouse.North), ("Price", 9.5m));
        const string message = "order 4711 shipped";
        Func<PairsState, Exception?, string> formatter = (_, _) => message; // formatting allocates nothing here
        using IDisposable? scope = logger.BeginScope("request {RequestId}", 42);
        void LogBatch()
        {
            for (int i = 0; i < 8; i++)
            {
                logger.Log(LogLevel.Information, default, state, null, formatter);
            }
        }

        for (int i = 0; i < 50; i++)
        {
            LogBatch(); // warm up: the ring's slots get their entries
            provider.Flush(Timeout).Should().BeTrue();
        }

        long allocated = 0;
        for (int i = 0; i < 50; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            LogBatch();
            allocated += GC.GetAllocatedBytesForCurrentThread() - before;
            provider.Flush(Timeout).Should().BeTrue();
        }

        allocated.Should().Be(0);
        ReceivedRecord record = _harness.Records()[^1];
        record.Dictionary.Where(p => p.Key is not ("cpu" or "taskname")).Should().Equal(
            new("CATEGORY", "Shop.Orders"),
            new("SCOPE", "request 42"),
            new("RequestId", "42"),
            new("OrderId", "4711"),
            new("Warehouse", "north"),
            new("At", "05/01/2024 00:00:00"),
            new("Region", "North"),
            new("Price", "9.5"));
    }

    [Fact]
    public void A_mutable_value_is_rendered_when_logged_not_when_sent()
    {
        using NetconsoleLoggerProvider provider = _harness.Provider();
        ILogger logger = provider.CreateLogger("c");
        _harness.Factory.Hold();
        logger.LogInformation("r0");
        _harness.Factory.SendBlocked.Wait(Timeout).Should().BeTrue();
        var cart = new StringBuilder("3 items");
        var counter = new Counter { Value = 1 };

        logger.LogInformation("cart {Cart} counter {Counter}", cart, counter);
        cart.Clear().Append("changed");
        counter.Value = 2;
        _harness.Factory.Release();
        provider.Flush(Timeout).Should().BeTrue();

        ReceivedRecord record = _harness.Records()[^1];
        record.FindValue("Cart").Should().Be("3 items");
        record.FindValue("Counter").Should().Be("counter 1");
    }

    [Fact]
    public void Immutable_values_rendered_by_the_sender_read_as_on_the_logging_thread_whatever_its_culture()
    {
        object?[] values =
        [
            null, "text", 4711, -5L, true, false, 1.5, 2.25f, 9.95m, 'x', (byte)7, (short)-3, 42u, 43UL, (ushort)9, (sbyte)-1,
            (nint)12, (nuint)13, (Half)0.5, (Int128)123, (UInt128)456, new BigInteger(1) << 80,
            new DateTime(2024, 5, 1, 13, 45, 10, DateTimeKind.Utc), new DateTimeOffset(2024, 5, 1, 13, 45, 10, TimeSpan.FromHours(2)),
            TimeSpan.FromMinutes(90.5), new DateOnly(2024, 5, 1), new TimeOnly(13, 45), Guid.Parse("c0ffee00-0000-4000-8000-000000000001"),
            Warehouse.North, (Warehouse)5, DayOfWeek.Friday | DayOfWeek.Monday, AttributeTargets.Class | AttributeTargets.Method,
        ];
        CultureInfo culture = CultureInfo.CurrentCulture;
        var texts = new ValueTexts();
        var formatter = new RecordFormatter(NetconsoleTargetOptions.Parse("+@/x,@192.0.2.2/").ToRecordFormat());
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            foreach (object? value in values)
            {
                NetconsoleLogger.IsImmutable(value).Should().BeTrue("{0} ({1}) is immutable", value, value?.GetType());
                for (int pass = 0; pass < 2; pass++) // the second from the sender's caches
                {
                    // What the sender thread does with the value: the record's Values, written by the formatter.
                    var record = NetconsoleRecord.FromString(6, "v") with { Values = [new("V", texts.ForRecord(value))] };
                    FormattedRecord formatted = formatter.Format(record);
                    string datagram = "";
                    foreach (ReadOnlySpan<byte> part in formatted)
                    {
                        datagram += Encoding.UTF8.GetString(part);
                    }

                    string line = datagram.Split('\n').Single(l => l.StartsWith(" V=", StringComparison.Ordinal));
                    line[3..].Should().Be(NetconsoleLogger.ToText(value), "{0} ({1}) reads on the wire as on the logging thread", value, value?.GetType());
                }
            }
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }

        NetconsoleLogger.IsImmutable(new StringBuilder()).Should().BeFalse();
        NetconsoleLogger.IsImmutable(new Counter()).Should().BeFalse();
        NetconsoleLogger.IsImmutable(new[] { 1 }).Should().BeFalse();
    }

    [Fact]
    public void The_sender_makes_a_repeated_ids_text_once_even_when_two_texts_share_a_place_in_its_table()
    {
        // Two numbers whose texts land in the same set of the table (the hash is per process).
        int SetOf(int n) => string.GetHashCode(n.ToString(CultureInfo.InvariantCulture).AsSpan()) & 511;
        int a = 1000;
        int b = Enumerable.Range(a + 1, 1_000_000).First(n => SetOf(n) == SetOf(a));
        var texts = new ValueTexts();
        string textA = texts.Of(a);
        string textB = texts.Of(b);

        for (int i = 0; i < 10; i++)
        {
            texts.Of(a).Should().BeSameAs(textA);
            texts.Of(b).Should().BeSameAs(textB);
        }
    }

    [Fact]
    public void A_structured_scope_reads_the_same_when_its_text_is_made_by_the_sender()
    {
        CultureInfo culture = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = CultureInfo.GetCultureInfo("de-DE");
            using (var provider = new NetconsoleLoggerProvider(_harness.Options()))
            using (ILoggerFactory factory = LoggerFactory.Create(b => b.AddProvider(provider)))
            {
                ILogger logger = factory.CreateLogger("c");
                using (logger.BeginScope("price {Price} at {When}", 1.5, new DateTime(2024, 5, 1)))
                using (logger.BeginScope("basket {Items}", new List<int> { 1, 2 }))
                {
                    logger.LogInformation("one");
                    logger.LogInformation("two");
                }
            }
        }
        finally
        {
            CultureInfo.CurrentCulture = culture;
        }

        List<ReceivedRecord> records = _harness.Records();
        records.Should().HaveCount(2);
        foreach (ReceivedRecord record in records)
        {
            record.Dictionary.Where(p => p.Key == "SCOPE").Select(p => p.Value)
                .Should().Equal("price 1.5 at 05/01/2024 00:00:00", "basket 1, 2");
        }
    }

    [Fact]
    public void A_record_logged_while_formatting_another_on_the_same_thread_is_kept_apart()
    {
        using NetconsoleLoggerProvider provider = _harness.Provider();
        ILogger logger = provider.CreateLogger("c");

        logger.Log(LogLevel.Information, default, "outer", null, (s, _) =>
        {
            logger.LogInformation("inner");
            return s;
        });
        logger.LogInformation("after");
        provider.Flush(Timeout).Should().BeTrue();

        _harness.Texts().Should().Equal("inner", "outer", "after");
    }

    private sealed class Counter
    {
        public int Value { get; set; }

        public override string ToString() => "counter " + Value.ToString(CultureInfo.InvariantCulture);
    }

    // A state whose values are boxed once, as a template's arguments are.
    private sealed class PairsState(params (string Key, object? Value)[] pairs) : IReadOnlyList<KeyValuePair<string, object?>>
    {
        private readonly KeyValuePair<string, object?>[] _pairs = pairs.Select(p => new KeyValuePair<string, object?>(p.Key, p.Value)).ToArray();

        public int Count => _pairs.Length;

        public KeyValuePair<string, object?> this[int index] => _pairs[index];

        public IEnumerator<KeyValuePair<string, object?>> GetEnumerator() => ((IEnumerable<KeyValuePair<string, object?>>)_pairs).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }

    /// <summary>Transports that count sends and note the sending thread's allocated bytes at each, allocating nothing themselves.</summary>
    private sealed class AllocationMeteringTransportFactory : IFrameTransportFactory
    {
        private readonly long[] _allocated = new long[100_000];
        private int _sends;

        public int Sends => Volatile.Read(ref _sends);

        public long AllocatedAt(int send) => Volatile.Read(ref _allocated[send]);

        public IFrameTransport Open(string deviceName) => new Transport(this, deviceName);

        private sealed class Transport(AllocationMeteringTransportFactory factory, string deviceName) : IFrameTransport
        {
            public string DeviceName { get; } = deviceName;

            public PhysicalAddress DeviceMac { get; } = PhysicalAddress.Parse("02-00-00-00-00-01");

            public bool IsLoopback => false;

            public void EnsureCanReach(System.Net.IPAddress remoteAddress)
            {
            }

            public IFrameCapture? OpenCapture() => null; // cannot receive

            public void Send(ReadOnlySpan<byte> frame)
            {
                long allocated = GC.GetAllocatedBytesForCurrentThread();
                int send = factory._sends;
                if (send < factory._allocated.Length)
                {
                    factory._allocated[send] = allocated;
                }

                Volatile.Write(ref factory._sends, send + 1);
            }

            public void Dispose()
            {
            }
        }
    }
}
