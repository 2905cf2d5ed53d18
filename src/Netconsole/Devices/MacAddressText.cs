using System.Diagnostics.CodeAnalysis;
using System.Net.NetworkInformation;
using Netconsole.Wire;

namespace Netconsole.Devices;

/// <summary>
/// MAC addresses as text, the way the kernel's netconsole writes and reads them: six hex octets
/// separated by <c>:</c> (lowercase when written). For target strings, state reasons and messages.
/// </summary>
internal static class MacAddressText
{
    private const int TextLength = (Ethernet.AddressLength * 3) - 1; // xx:xx:xx:xx:xx:xx

    /// <summary>Writes a MAC address as the kernel does: lowercase hex octets separated by <c>:</c> (any length; empty for none).</summary>
    public static string Format(PhysicalAddress mac)
    {
        ArgumentNullException.ThrowIfNull(mac);
        byte[] bytes = mac.GetAddressBytes();
        return string.Create(bytes.Length == 0 ? 0 : (bytes.Length * 3) - 1, bytes, static (span, b) =>
        {
            for (int i = 0; i < b.Length; i++)
            {
                if (i > 0)
                {
                    span[(i * 3) - 1] = ':';
                }

                span[i * 3] = "0123456789abcdef"[b[i] >> 4];
                span[(i * 3) + 1] = "0123456789abcdef"[b[i] & 0xf];
            }
        });
    }

    /// <summary>Reads a MAC address written <c>xx:xx:xx:xx:xx:xx</c> (hex in either case, exactly six octets).</summary>
    public static bool TryParse(ReadOnlySpan<char> text, [NotNullWhen(true)] out PhysicalAddress? mac)
    {
        mac = null;
        if (text.Length != TextLength)
        {
            return false;
        }

        var bytes = new byte[Ethernet.AddressLength];
        for (int i = 0; i < bytes.Length; i++)
        {
            int high = HexValue(text[i * 3]);
            int low = HexValue(text[(i * 3) + 1]);
            if (high < 0 || low < 0 || (i < bytes.Length - 1 && text[(i * 3) + 2] != ':'))
            {
                return false;
            }

            bytes[i] = (byte)((high << 4) | low);
        }

        mac = new PhysicalAddress(bytes);
        return true;
    }

    private static int HexValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };
}
