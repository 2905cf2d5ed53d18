using System.IO.MemoryMappedFiles;

namespace Netconsole.Benchmarks.Receive;

/// <summary>
/// The counters a receiver under test publishes while it runs, in a 4096-byte file mapped
/// shared by the receiver and the benchmark (the layout of bench/receive/nccount.c): 64 slots of
/// 64 bytes, one per writing thread, each three 64-bit counters: complete records, incomplete
/// records, plain datagrams. A slot has one writer; the benchmark sums the slots.
/// </summary>
internal sealed unsafe class CounterFile : IDisposable
{
    public const int Size = 4096;
    private const int Slots = 64;
    private const int SlotLongs = 8;

    private readonly MemoryMappedFile _file;
    private readonly MemoryMappedViewAccessor _view;
    private readonly long* _counters;

    private CounterFile(string path)
    {
        _file = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, Size, MemoryMappedFileAccess.ReadWrite);
        _view = _file.CreateViewAccessor(0, Size);
        byte* pointer = null;
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        _counters = (long*)(pointer + _view.PointerOffset);
    }

    /// <summary>Creates (or empties) the file: every counter 0.</summary>
    public static void Create(string path) => File.WriteAllBytes(path, new byte[Size]);

    public static CounterFile Open(string path) => new(path);

    /// <summary>Complete records, all slots together.</summary>
    public long Complete => Sum(0);

    /// <summary>Incomplete records (netconsd hands them over with bytes missing), all slots together.</summary>
    public long Incomplete => Sum(1);

    /// <summary>Datagrams handed over as plain text, all slots together.</summary>
    public long Plain => Sum(2);

    /// <summary>Publishes slot <paramref name="slot"/>'s count of complete records (its writer only).</summary>
    public void SetComplete(int slot, long value) => Volatile.Write(ref _counters[slot * SlotLongs], value);

    public void Dispose()
    {
        _view.SafeMemoryMappedViewHandle.ReleasePointer();
        _view.Dispose();
        _file.Dispose();
    }

    private long Sum(int field)
    {
        long total = 0;
        for (int slot = 0; slot < Slots; slot++)
        {
            total += Volatile.Read(ref _counters[(slot * SlotLongs) + field]);
        }

        return total;
    }
}
