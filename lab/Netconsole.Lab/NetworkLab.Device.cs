using System.Globalization;
using System.Net.NetworkInformation;
using Netconsole.Devices;

namespace Netconsole.Lab;

// Operations on the device end: what automatic target recovery has to survive. Each runs
// real ip commands, and DeviceName, DeviceMac, DeviceIndex and DeviceExists follow.
public sealed partial class NetworkLab
{
    private const int MaxInterfaceNameLength = 15; // IFNAMSIZ - 1

    /// <summary>The device end as the system sees it now, or null when it does not exist.</summary>
    /// <returns>Index, name, MAC, up/running state and addresses, read with <c>ip -j addr show</c>.</returns>
    /// <exception cref="NetworkLabException">ip failed for another reason than a missing device.</exception>
    public NetworkDevice? QueryDevice()
    {
        ThrowIfDisposed();
        return LabInterfaces.Query(_ip, DeviceName, null);
    }

    /// <summary>The peer end as the system sees it now (inside the peer namespace), or null when it does not exist.</summary>
    /// <returns>Index, name, MAC, up/running state and addresses, read with <c>ip -n NS -j addr show</c>.</returns>
    /// <exception cref="NetworkLabException">ip failed for another reason than a missing device.</exception>
    public NetworkDevice? QueryPeer()
    {
        ThrowIfDisposed();
        return LabInterfaces.Query(_ip, PeerName, Id);
    }

    /// <summary>
    /// A fresh interface name for <see cref="RecreateDevice"/> or <see cref="RenameDevice"/>:
    /// the lab id, <c>r</c> and a counter (<c>ncl1a2b3r1</c>, <c>ncl1a2b3r2</c>, ...), so it
    /// is unique to this lab and <see cref="CleanupStale"/> recognizes it.
    /// </summary>
    /// <returns>A name not used before by this lab.</returns>
    public string NewDeviceName()
    {
        string name = Id + "r" + Interlocked.Increment(ref _nameCounter).ToString(CultureInfo.InvariantCulture);
        if (name.Length > MaxInterfaceNameLength)
        {
            throw new InvalidOperationException($"This lab has used up the device names its prefix leaves room for ({name} is too long).");
        }

        return name;
    }

    /// <summary>
    /// Deletes the device end (<c>ip link del</c>), which deletes the peer end with it, as when a
    /// USB adapter is unplugged. The peer namespace, its sockets and the lab stay.
    /// </summary>
    /// <exception cref="InvalidOperationException">The device end does not exist.</exception>
    /// <exception cref="NetworkLabException">ip failed.</exception>
    public void DeleteDevice()
    {
        lock (_gate)
        {
            RequireDevice();
            _ip.Run("link", "del", "dev", DeviceName);
            DeviceExists = false;
        }
    }

    /// <summary>
    /// Creates the veth pair again after <see cref="DeleteDevice"/>: the device end with the
    /// given name and MAC, the peer end with its old name, MAC and addresses in the peer
    /// namespace, both up, the device's addresses back (and, with a router, the routes to the
    /// receiver's networks); returns once both ends have carrier. The device gets a new
    /// interface index.
    /// </summary>
    /// <param name="newName">
    /// The device end's name; null keeps the previous one. It must start with the lab's name
    /// prefix and be at most 15 characters (see <see cref="NewDeviceName"/>).
    /// </param>
    /// <param name="mac">The device end's MAC; null keeps the previous one, as for a re-plugged adapter.</param>
    /// <exception cref="InvalidOperationException">The device end still exists.</exception>
    /// <exception cref="ArgumentException">The name or MAC is not acceptable.</exception>
    /// <exception cref="NetworkLabException">ip failed.</exception>
    public void RecreateDevice(string? newName = null, PhysicalAddress? mac = null)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            if (DeviceExists)
            {
                throw new InvalidOperationException($"The device end {DeviceName} still exists; delete it first (DeleteDevice).");
            }

            string name = newName ?? DeviceName;
            ValidateName(name, nameof(newName));
            PhysicalAddress address = mac ?? DeviceMac;
            ValidateMac(address, nameof(mac));
            AddPair(name, address);
        }
    }

    /// <summary>
    /// Changes the device end's MAC (<c>ip link set dev D address MAC</c>) while it stays up;
    /// veth allows live address changes.
    /// </summary>
    /// <param name="mac">The new MAC: 6 bytes, unicast.</param>
    /// <exception cref="InvalidOperationException">The device end does not exist.</exception>
    /// <exception cref="ArgumentException">The MAC is not acceptable.</exception>
    /// <exception cref="NetworkLabException">ip failed.</exception>
    public void SetDeviceMac(PhysicalAddress mac)
    {
        ArgumentNullException.ThrowIfNull(mac);
        ValidateMac(mac, nameof(mac));
        lock (_gate)
        {
            RequireDevice();
            _ip.Run("link", "set", "dev", DeviceName, "address", LabInterfaces.FormatMac(mac));
            DeviceMac = mac;
        }
    }

    /// <summary>
    /// Renames the device end: down, rename, up (Linux renames only interfaces that are down),
    /// then waits for carrier. The index, MAC and addresses stay.
    /// </summary>
    /// <param name="newName">
    /// The new name: it must start with the lab's name prefix and be at most 15 characters
    /// (see <see cref="NewDeviceName"/>).
    /// </param>
    /// <exception cref="InvalidOperationException">The device end does not exist.</exception>
    /// <exception cref="ArgumentException">The name is not acceptable.</exception>
    /// <exception cref="NetworkLabException">ip failed (the device is brought up again under its old name).</exception>
    public void RenameDevice(string newName)
    {
        ArgumentNullException.ThrowIfNull(newName);
        ValidateName(newName, nameof(newName));
        lock (_gate)
        {
            RequireDevice();
            _ip.Run("link", "set", "dev", DeviceName, "down");
            try
            {
                _ip.Run("link", "set", "dev", DeviceName, "name", newName);
            }
            catch (NetworkLabException)
            {
                _ip.TryRun("link", "set", "dev", DeviceName, "up");
                throw;
            }

            DeviceName = newName;
            _ip.Run("link", "set", "dev", DeviceName, "up");
            WaitForCarrier();
        }
    }

    /// <summary>Sets the device end administratively down (<c>ip link set dev D down</c>); its addresses stay.</summary>
    /// <exception cref="InvalidOperationException">The device end does not exist.</exception>
    /// <exception cref="NetworkLabException">ip failed.</exception>
    public void SetDeviceDown()
    {
        lock (_gate)
        {
            RequireDevice();
            _ip.Run("link", "set", "dev", DeviceName, "down");
        }
    }

    /// <summary>
    /// Sets the device end up (<c>ip link set dev D up</c>) and waits for carrier; with a router,
    /// the routes to the receiver's networks (removed with the device's routes while it was down) are added again.
    /// </summary>
    /// <exception cref="InvalidOperationException">The device end does not exist.</exception>
    /// <exception cref="NetworkLabException">ip failed, or no carrier within <see cref="NetworkLabOptions.CarrierTimeout"/>.</exception>
    public void SetDeviceUp()
    {
        lock (_gate)
        {
            RequireDevice();
            _ip.Run("link", "set", "dev", DeviceName, "up");
            WaitForCarrier();
            AddRoutesViaRouter();
        }
    }

    /// <summary>
    /// Sets the peer end down, so the device end loses carrier (operstate DOWN, flag
    /// NO-CARRIER) while staying administratively up, as when a cable is pulled.
    /// </summary>
    /// <exception cref="InvalidOperationException">The device end (and so the pair) does not exist.</exception>
    /// <exception cref="NetworkLabException">ip failed.</exception>
    public void SetPeerDown()
    {
        lock (_gate)
        {
            RequireDevice();
            _ip.Run("-n", Id, "link", "set", "dev", PeerName, "down");
        }
    }

    /// <summary>Sets the peer end up again and waits until both ends have carrier.</summary>
    /// <exception cref="InvalidOperationException">The device end (and so the pair) does not exist.</exception>
    /// <exception cref="NetworkLabException">ip failed, or no carrier within <see cref="NetworkLabOptions.CarrierTimeout"/>.</exception>
    public void SetPeerUp()
    {
        lock (_gate)
        {
            RequireDevice();
            _ip.Run("-n", Id, "link", "set", "dev", PeerName, "up");
            WaitForCarrier();
            AddRoutesViaRouter();
        }
    }

    private void RequireDevice()
    {
        ThrowIfDisposed();
        if (!DeviceExists)
        {
            throw new InvalidOperationException($"The device end {DeviceName} does not exist (it was deleted); re-create it first (RecreateDevice).");
        }
    }

    private void ValidateName(string name, string parameterName)
    {
        bool plain = name.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.');
        if (name.Length > MaxInterfaceNameLength || !plain || !name.StartsWith(_options.NamePrefix, StringComparison.Ordinal))
        {
            throw new ArgumentException(
                $"The interface name '{name}' must start with the lab's prefix '{_options.NamePrefix}', be at most "
                + $"{MaxInterfaceNameLength} characters and use only letters, digits, '-', '_' and '.' (NewDeviceName() makes one).",
                parameterName);
        }
    }

    private static void ValidateMac(PhysicalAddress mac, string parameterName)
    {
        byte[] bytes = mac.GetAddressBytes();
        if (bytes.Length != 6 || (bytes[0] & 0x01) != 0)
        {
            throw new ArgumentException(
                $"'{mac}' is not a unicast Ethernet MAC (6 bytes, group bit clear). NetworkLab.RandomMac() makes one.",
                parameterName);
        }
    }
}
