using Netconsole.Logging;

namespace Netconsole.Tests.Logging;

/// <summary>
/// The lock-free bounded queue between logging threads and the sender thread (<see cref="LogQueue"/>):
/// exact accounting under concurrency, order per producer, wrap-around, full queues, growing and
/// shrinking.
/// </summary>
public sealed class LogQueueTests
{
    /// <summary>A new empty queue of the kind under test.</summary>
    private static LogQueue NewQueue(long start = 0) => new(start);

    // An entry marked with its producer (Level) and its number within that producer (ThreadId).
    private static LogEntry Entry(int producer, int number, LogEntry? reuse = null)
    {
        LogEntry entry = reuse ?? new LogEntry();
        entry.Level = producer;
        entry.ThreadId = number;
        return entry;
    }

    private static OfferResult Offer(LogQueue queue, int producer, int number, int limit = 1000, bool dropWhenFull = true) =>
        queue.Offer(Entry(producer, number), limit, dropWhenFull);

    private static List<(int Producer, int Number, long DroppedBefore)> TakeAll(LogQueue queue, List<long>? noticeDrops = null)
    {
        var taken = new List<(int, int, long)>();
        while (true)
        {
            switch (queue.TryTake(out LogEntry? entry, out _, out long dropped))
            {
                case TakeResult.Taken:
                    taken.Add((entry!.Level, entry.ThreadId, dropped));
                    Recycle(entry);
                    break;
                case TakeResult.Drops:
                    noticeDrops?.Add(dropped);
                    break;
                default:
                    return taken;
            }
        }
    }

    [Fact]
    public void Entries_leave_in_the_order_they_were_queued()
    {
        LogQueue queue = NewQueue();
        for (int i = 0; i < 10; i++)
        {
            Offer(queue, 0, i).Should().Be(OfferResult.Enqueued);
        }

        queue.Count.Should().Be(10);
        TakeAll(queue).Select(t => t.Number).Should().Equal(Enumerable.Range(0, 10));
        queue.Count.Should().Be(0);
        queue.Enqueued.Should().Be(10);
    }

    [Fact]
    public void A_full_queue_drops_new_entries_and_the_next_entry_carries_the_count()
    {
        LogQueue queue = NewQueue();
        for (int i = 0; i < 5; i++)
        {
            Offer(queue, 0, i, limit: 3).Should().Be(i < 3 ? OfferResult.Enqueued : OfferResult.Dropped);
        }

        queue.TryTake(out LogEntry? first, out _, out long before).Should().Be(TakeResult.Taken);
        (first!.ThreadId, before).Should().Be((0, 0));
        Recycle(first);
        Offer(queue, 0, 5, limit: 3).Should().Be(OfferResult.Enqueued, "taking one made room for one");
        Offer(queue, 0, 6, limit: 3).Should().Be(OfferResult.Dropped);

        var notices = new List<long>();
        TakeAll(queue, notices).Should().Equal((0, 1, 0L), (0, 2, 0L), (0, 5, 2L));
        notices.Should().Equal(1L); // r6's drop: nothing came after it, the consumer collects it
    }

    [Fact]
    public void A_full_queue_that_must_not_drop_refuses_the_entry_without_counting_a_drop()
    {
        LogQueue queue = NewQueue();
        Offer(queue, 0, 0, limit: 1).Should().Be(OfferResult.Enqueued);

        queue.Offer(Entry(0, 1), 1, dropWhenFull: false).Should().Be(OfferResult.Full);

        queue.IsFull(1).Should().BeTrue();
        queue.IsFull(2).Should().BeFalse();
        TakeAll(queue).Should().ContainSingle().Which.DroppedBefore.Should().Be(0, "a refused entry is not a drop");
    }

    [Fact]
    public void A_record_is_copied_in_and_out_so_both_sides_reuse_their_own_entries()
    {
        LogQueue queue = NewQueue();
        var mine = new LogEntry { Message = "first" };
        mine.Pairs.Add(new("Key", 1));

        queue.Offer(mine, 10, dropWhenFull: true).Should().Be(OfferResult.Enqueued);
        mine.Message = "changed";
        mine.Pairs.Clear();

        queue.TryTake(out LogEntry? taken, out _, out _).Should().Be(TakeResult.Taken);
        taken!.Message.Should().Be("first");
        taken.Pairs.Should().ContainSingle().Which.Should().Be(new KeyValuePair<string, object?>("Key", 1));
        Recycle(taken);
        taken.Message.Should().BeEmpty();
        taken.Pairs.Should().BeEmpty();

        for (int i = 0; i < LogQueue.InitialCapacity * 3; i++)
        {
            mine.Message = "m" + i;
            queue.Offer(mine, 10, dropWhenFull: true).Should().Be(OfferResult.Enqueued);
            queue.TryTake(out LogEntry? again, out _, out _).Should().Be(TakeResult.Taken);
            again.Should().BeSameAs(taken, "the consumer copies every record into its own entry");
            again!.Message.Should().Be("m" + i);
            Recycle(again);
        }
    }

    [Fact]
    public void A_slot_carries_exactly_the_pairs_of_its_record_whether_few_or_many()
    {
        LogQueue queue = NewQueue();
        var mine = new LogEntry();
        int[] counts = [6, 2, 0, LogQueue.InlinePairs, LogQueue.InlinePairs + 1, 40, 1];
        foreach (int count in counts)
        {
            // Every slot of the ring gets this size of record, after a different size the lap before.
            for (int i = 0; i < LogQueue.InitialCapacity; i++)
            {
                mine.Pairs.Clear();
                for (int k = 0; k < count; k++)
                {
                    mine.Pairs.Add(new("K" + k.ToString(System.Globalization.CultureInfo.InvariantCulture), i * 100 + k));
                }

                queue.Offer(mine, 1000, dropWhenFull: true).Should().Be(OfferResult.Enqueued);
                queue.TryTake(out LogEntry? taken, out _, out _).Should().Be(TakeResult.Taken);
                taken!.Pairs.Select(p => p.Value).Should().Equal(Enumerable.Range(0, count).Select(k => (object?)(i * 100 + k)));
                Recycle(taken);
            }
        }
    }

    [Fact]
    public void Positions_wrap_around_32_bits_without_losing_order_or_counts()
    {
        LogQueue queue = NewQueue(start: uint.MaxValue - 40L);
        var numbers = new List<int>();
        for (int i = 0; i < 200; i++)
        {
            Offer(queue, 0, i, limit: 7).Should().Be(OfferResult.Enqueued);
            if (i % 3 == 2)
            {
                numbers.AddRange(TakeAll(queue).Select(t => t.Number));
            }

            queue.Count.Should().BeLessThan(7);
        }

        numbers.AddRange(TakeAll(queue).Select(t => t.Number));
        numbers.Should().Equal(Enumerable.Range(0, 200));
        queue.Enqueued.Should().Be(200);
        queue.Count.Should().Be(0);
    }

    [Fact]
    public void A_limit_beyond_the_segment_grows_the_queue_in_order_and_the_limit_still_holds()
    {
        LogQueue queue = NewQueue(start: uint.MaxValue - 100L);
        for (int i = 0; i < 300; i++)
        {
            Offer(queue, 0, i, limit: 300).Should().Be(OfferResult.Enqueued);
        }

        Offer(queue, 0, 300, limit: 300).Should().Be(OfferResult.Dropped);
        queue.Capacity.Should().BeGreaterThanOrEqualTo(256);
        queue.Count.Should().Be(300);

        var notices = new List<long>();
        TakeAll(queue, notices).Select(t => t.Number).Should().Equal(Enumerable.Range(0, 300));
        notices.Should().Equal(1L);
    }

    [Fact]
    public void A_smaller_limit_applies_to_the_next_offer_without_losing_what_is_queued()
    {
        LogQueue queue = NewQueue();
        for (int i = 0; i < 10; i++)
        {
            Offer(queue, 0, i, limit: 10).Should().Be(OfferResult.Enqueued);
        }

        Offer(queue, 0, 10, limit: 4).Should().Be(OfferResult.Dropped);
        TakeAll(queue).Should().HaveCount(10);
        Offer(queue, 0, 11, limit: 4).Should().Be(OfferResult.Enqueued);
    }

    [Fact]
    public void An_idle_consumer_gives_back_a_grown_segment()
    {
        LogQueue queue = NewQueue();
        for (int i = 0; i < 1000; i++)
        {
            Offer(queue, 0, i, limit: 5000);
        }

        queue.Capacity.Should().BeGreaterThanOrEqualTo(1000);
        queue.TryShrink().Should().BeFalse("it is not empty");
        TakeAll(queue).Should().HaveCount(1000);

        queue.TryShrink().Should().BeTrue();

        queue.Capacity.Should().Be(LogQueue.InitialCapacity);
        for (int i = 0; i < 100; i++)
        {
            Offer(queue, 0, i, limit: 5000).Should().Be(OfferResult.Enqueued);
        }

        TakeAll(queue).Select(t => t.Number).Should().Equal(Enumerable.Range(0, 100));
        queue.Enqueued.Should().Be(1100);
    }

    [Fact]
    public void A_closed_queue_refuses_offers_drains_and_abandons_what_is_left()
    {
        LogQueue queue = NewQueue();
        for (int i = 0; i < 5; i++)
        {
            Offer(queue, 0, i);
        }

        queue.Close();

        Offer(queue, 0, 5).Should().Be(OfferResult.Closed);
        queue.TryTake(out LogEntry? entry, out _, out _).Should().Be(TakeResult.Taken);
        Recycle(entry!);
        queue.Abandon().Should().Be(4);
        queue.TryTake(out _, out _, out _).Should().Be(TakeResult.Abandoned);
        queue.Count.Should().Be(0);
        queue.Enqueued.Should().Be(5);
    }

    [Fact]
    public void A_drained_closed_queue_says_so_after_announcing_its_drops()
    {
        LogQueue queue = NewQueue();
        Offer(queue, 0, 0, limit: 1);
        Offer(queue, 0, 1, limit: 1).Should().Be(OfferResult.Dropped);
        queue.Close();

        queue.TryTake(out LogEntry? entry, out _, out _).Should().Be(TakeResult.Taken);
        Recycle(entry!);
        queue.TryTake(out _, out _, out long dropped).Should().Be(TakeResult.Drops);
        dropped.Should().Be(1);
        queue.TryTake(out _, out _, out _).Should().Be(TakeResult.Drained);
    }

    [Fact]
    public void Drops_taken_for_a_record_sent_outside_the_queue_are_not_announced_twice()
    {
        LogQueue queue = NewQueue();
        Offer(queue, 0, 0, limit: 1);
        Offer(queue, 0, 1, limit: 1);
        Offer(queue, 0, 2, limit: 1);

        queue.TakeDrops().Should().Be(2);

        var notices = new List<long>();
        TakeAll(queue, notices).Should().Equal((0, 0, 0L));
        notices.Should().BeEmpty();
        queue.TakeDrops().Should().Be(0);
    }

    [Theory]
    [InlineData(8, false)] // the limit within the first segment
    [InlineData(3000, false)] // the queue grows while producers race
    [InlineData(64, true)] // positions wrap around 32 bits meanwhile
    public void Concurrent_producers_are_counted_exactly_and_each_producers_order_is_kept(int limit, bool nearWrap)
    {
        const int Producers = 4;
        const int PerProducer = 50_000;
        LogQueue queue = NewQueue(start: nearWrap ? uint.MaxValue - 5_000L : 0);
        var enqueued = new long[Producers];
        var dropped = new long[Producers];
        using var start = new Barrier(Producers + 1);
        var producers = Enumerable.Range(0, Producers).Select(p => new Thread(() =>
        {
            var entry = new LogEntry();
            start.SignalAndWait();
            for (int i = 0; i < PerProducer; i++)
            {
                switch (queue.Offer(Entry(p, i, entry), limit, dropWhenFull: true))
                {
                    case OfferResult.Enqueued:
                        enqueued[p]++;
                        break;
                    case OfferResult.Dropped:
                        dropped[p]++;
                        break;
                    default:
                        throw new InvalidOperationException("an open queue refused an entry");
                }
            }
        })).ToList();
        producers.ForEach(t => t.Start());

        var last = Enumerable.Repeat(-1, Producers).ToArray();
        long taken = 0;
        long announced = 0;
        bool ordered = true;
        int maxCount = 0;
        start.SignalAndWait();
        while (producers.Any(t => t.IsAlive) || queue.Count > 0 || queue.HasWork())
        {
            maxCount = Math.Max(maxCount, queue.Count);
            switch (queue.TryTake(out LogEntry? entry, out _, out long before))
            {
                case TakeResult.Taken:
                    ordered &= entry!.ThreadId > last[entry.Level];
                    last[entry.Level] = entry.ThreadId;
                    taken++;
                    announced += before;
                    Recycle(entry);
                    break;
                case TakeResult.Drops:
                    announced += before;
                    break;
                default:
                    Thread.Yield();
                    break;
            }
        }

        producers.ForEach(t => t.Join());
        ordered.Should().BeTrue("each producer's entries leave in the order it queued them");
        (enqueued.Sum() + dropped.Sum()).Should().Be(Producers * PerProducer);
        taken.Should().Be(enqueued.Sum());
        announced.Should().Be(dropped.Sum(), "every drop is announced exactly once");
        queue.Enqueued.Should().Be(enqueued.Sum());
        maxCount.Should().BeLessThanOrEqualTo(limit);
    }

    [Fact]
    public void Producers_racing_a_segment_change_lose_nothing()
    {
        const int Producers = 3;
        const int PerProducer = 20_000;
        LogQueue queue = NewQueue();
        int refused = 0;
        using var start = new Barrier(Producers);
        var producers = Enumerable.Range(0, Producers).Select(p => new Thread(() =>
        {
            start.SignalAndWait();
            for (int i = 0; i < PerProducer; i++)
            {
                if (Offer(queue, p, i, limit: LogQueue.MaxLimit) != OfferResult.Enqueued)
                {
                    Interlocked.Increment(ref refused);
                }
            }
        })).ToList();
        producers.ForEach(t => t.Start());
        producers.ForEach(t => t.Join());
        refused.Should().Be(0);
        queue.Capacity.Should().BeGreaterThanOrEqualTo(Producers * PerProducer / 2, "the segments grew as the queue filled");

        List<(int Producer, int Number, long DroppedBefore)> taken = TakeAll(queue);

        taken.Should().HaveCount(Producers * PerProducer);
        for (int p = 0; p < Producers; p++)
        {
            taken.Where(t => t.Producer == p).Select(t => t.Number).Should().Equal(Enumerable.Range(0, PerProducer));
        }
    }

    // What the sender does with an entry once sent: it keeps no reference to the record's objects.
    private static void Recycle(LogEntry entry) => entry.Clear();
}
