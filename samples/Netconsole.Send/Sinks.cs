using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;
using System.Text;
using Netconsole.Devices;
using Netconsole.Targets;
using Netconsole.Transport;
using Netconsole.Wire;

namespace Netconsole.Send;

/// <summary>Where the tool's datagrams go: frames injected on a device, or frames in a pcap file.</summary>
internal interface IDatagramSink : IDisposable
{
    /// <summary>Frames written or injected.</summary>
    long Sent { get; }

    /// <summary>Datagrams that could not be sent (device down or gone), counted, never silently lost.</summary>
    long Dropped { get; }

    /// <summary>"written" or "sent".</summary>
    string Verb { get; }

    void Send(ReadOnlySpan<byte> datagram);
}

/// <summary>One line per frame, for the one-record mode.</summary>
internal static class FrameLog
{
    public static string Route(IPAddress local, int localPort, IPAddress remote, int remotePort) =>
        $"{new IPEndPoint(local, localPort)} -> {new IPEndPoint(remote, remotePort)}";

    public static void Write(TextWriter? log, long index, int frameLength, string route, ReadOnlySpan<byte> datagram)
    {
        if (log is null)
        {
            return;
        }

        const int Max = 72;
        string text = Encoding.UTF8.GetString(datagram[..Math.Min(Max, datagram.Length)]).Replace("\n", "\\n", StringComparison.Ordinal);
        log.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"frame {index}: {frameLength} bytes, {route}, payload {datagram.Length} bytes: {text}{(datagram.Length > Max ? "..." : "")}"));
    }
}

internal sealed class PcapSink : IDatagramSink
{
    private readonly PcapFileWriter _writer;
    private readonly FrameBuilder _frames;
    private readonly string _route;
    private readonly TextWriter? _log;
    private readonly byte[] _frame;

    private PcapSink(PcapFileWriter writer, FrameBuilder frames, string route, TextWriter? log)
    {
        _writer = writer;
        _frames = frames;
        _route = route;
        _log = log;
        _frame = new byte[frames.MaxFrameLength];
    }

    public long Sent { get; private set; }

    public long Dropped => 0;

    public string Verb => "written";

    public static PcapSink Create(FileInfo file, FrameBuilder frames, string route, TextWriter? log)
    {
        try
        {
            return new PcapSink(new PcapFileWriter(file.FullName), frames, route, log);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new UsageException($"cannot write {file.FullName}: {e.Message}");
        }
    }

    public void Send(ReadOnlySpan<byte> datagram)
    {
        int length = _frames.Build(datagram, _frame);
        _writer.Write(_frame.AsSpan(0, length));
        FrameLog.Write(_log, ++Sent, length, _route, datagram);
    }

    public void Dispose() => _writer.Dispose();
}

/// <summary>
/// Injects frames on the target's device. While the device is down its records are dropped
/// and counted; when it is deleted the handle is dead, so the sink reopens the device (by name,
/// or by MAC for a target bound by MAC) once it is back. State changes go to stderr.
/// </summary>
internal sealed class LiveSink : IDatagramSink
{
    internal static readonly PhysicalAddress Broadcast = new([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    private static readonly PhysicalAddress Zero = new(new byte[6]);

    private readonly NetconsoleTargetOptions _options;
    private readonly IFrameTransportFactory _factory;
    private readonly TextWriter? _log;
    private readonly TextWriter _state;
    private IFrameTransport? _transport;
    private FrameBuilder _frames;
    private string _route = "";
    private readonly byte[] _frame = new byte[2048];
    private string _device;
    private string? _problem;

    private LiveSink(NetconsoleTargetOptions options, IFrameTransportFactory factory, IFrameTransport transport, (FrameBuilder Frames, string Route) frames, TextWriter? log, TextWriter state)
    {
        _options = options;
        _factory = factory;
        _transport = transport;
        (_frames, _route) = frames;
        _device = transport.DeviceName;
        _log = log;
        _state = state;
    }

    public long Sent { get; private set; }

    public long Dropped { get; private set; }

    public string Verb => "sent";

    public static LiveSink Open(NetconsoleTargetOptions options, IFrameTransportFactory factory, TextWriter? log, TextWriter state)
    {
        NetworkDevice device = FindDevice(options)
            ?? throw new UsageException(options.DeviceName is null && options.DeviceMac is null
                ? $"the target names no device, and this tool never picks one: put the interface in the target, for example \"+@/veth0,@{options.RemoteAddress}/\" (or use --write-pcap)."
                : $"no device {(options.DeviceName is not null ? $"named {options.DeviceName}" : $"with MAC {string.Join(':', options.DeviceMac!.GetAddressBytes().Select(b => b.ToString("x2", CultureInfo.InvariantCulture)))}")}; devices here: {string.Join(", ", NetworkDevice.GetAll().Select(d => d.Name))}.");
        IFrameTransport transport = factory.Open(device.Name);
        try
        {
            var frames = CreateFrames(options, device, transport);
            return new LiveSink(options, factory, transport, frames, log, state);
        }
        catch
        {
            transport.Dispose();
            throw;
        }
    }

    private static NetworkDevice? FindDevice(NetconsoleTargetOptions options) =>
        options.DeviceName is not null ? NetworkDevice.FindByName(options.DeviceName)
        : options.DeviceMac is not null ? NetworkDevice.FindByMac(options.DeviceMac)
        : null;

    private static (FrameBuilder Frames, string Route) CreateFrames(NetconsoleTargetOptions options, NetworkDevice device, IFrameTransport transport)
    {
        IPAddress remote = options.RemoteAddress!;
        bool loopback = transport is SharpPcapTransport { IsLoopback: true };
        if (transport is SharpPcapTransport pcap)
        {
            try
            {
                pcap.EnsureCanReach(remote); // IPv4 injected on lo never reaches a socket
            }
            catch (FrameTransportException e)
            {
                throw new UsageException(e.Message);
            }
        }

        // As the kernel: an unset local address is the device's first of the remote's family.
        IPAddress local = options.LocalAddress
            ?? device.FirstAddress(remote.AddressFamily, remote.IsIPv6LinkLocal)
            ?? throw new UsageException($"{device.Name} has no {(remote.AddressFamily == AddressFamily.InterNetworkV6 ? "IPv6" : "IPv4")} address to send from: give the source address in the target, for example \"@{(remote.AddressFamily == AddressFamily.InterNetworkV6 ? "2001:db8::1" : "192.0.2.1")}/{device.Name},@{remote}/\".");

        // lo takes frames addressed to 00:00:00:00:00:00; elsewhere, without a remote MAC, broadcast as the kernel does.
        PhysicalAddress source = transport.DeviceMac.GetAddressBytes().Length == 6 ? transport.DeviceMac : Zero;
        PhysicalAddress destination = options.RemoteMac ?? (loopback ? Zero : Broadcast);
        return (new FrameBuilder(source, destination, local, options.LocalPort, remote, options.RemotePort),
                $"{device.Name}: {FrameLog.Route(local, options.LocalPort, remote, options.RemotePort)}");
    }

    public void Send(ReadOnlySpan<byte> datagram)
    {
        if (_transport is null && !TryReopen())
        {
            Dropped++;
            return;
        }

        int length = _frames.Build(datagram, _frame);
        try
        {
            _transport!.Send(_frame.AsSpan(0, length));
        }
        catch (FrameTransportException e) when (!e.IsPermanent)
        {
            Report(e.Message);
            Dropped++;
            return;
        }
        catch (FrameTransportException e)
        {
            Report(e.Message + " (reopening it when it is back)");
            _transport!.Dispose();
            _transport = null;
            Dropped++;
            return;
        }

        if (_problem is not null)
        {
            _state.WriteLine(string.Create(CultureInfo.InvariantCulture, $"netconsole-send: {_device}: sending again ({Dropped} datagram(s) dropped so far)"));
            _problem = null;
        }

        FrameLog.Write(_log, ++Sent, length, _route, datagram);
    }

    private bool TryReopen()
    {
        NetworkDevice? device = FindDevice(_options);
        if (device is null)
        {
            return false;
        }

        try
        {
            IFrameTransport transport = _factory.Open(device.Name);
            (_frames, _route) = CreateFrames(_options, device, transport);
            _transport = transport;
            _device = device.Name;
            return true;
        }
        catch (FrameTransportException e)
        {
            Report(e.Message);
            return false;
        }
    }

    // Once per state change, not once per record.
    private void Report(string problem)
    {
        if (problem != _problem)
        {
            _state.WriteLine($"netconsole-send: {_device}: {problem}; dropping records meanwhile");
            _problem = problem;
        }
    }

    public void Dispose() => _transport?.Dispose();
}
