using System.Globalization;
using System.Net;
using System.Net.NetworkInformation;
using System.Text;
using Netconsole.Targets;
using Netconsole.Wire;

namespace Netconsole.Logging.ProcessDeath;

/// <summary>
/// What the watchdog needs to send as the application would: its targets (every option that
/// shapes a frame: addresses, ports, MACs, device, format, userdata, sysdata, signing key, pacing),
/// the facility, and whether dictionaries are worth making. Passed through the shared memory,
/// never the command line: a signing secret must not show in /proc/PID/cmdline.
/// </summary>
/// <remarks>
/// Text, one <c>key=value</c> per line, values URI-escaped; a line <c>target</c> starts a target.
/// Replay buffers keep their defaults and there is no spool: the watchdog sends once, now.
/// </remarks>
internal sealed class WatchdogSettings
{
    public int Facility { get; set; } = NetconsoleTargetOptions.DefaultFacility;

    public bool WantsDictionary { get; set; }

    /// <summary>The longest the watchdog spends sending after the death.</summary>
    public TimeSpan FlushTimeout { get; set; } = TimeSpan.FromSeconds(2);

    public List<NetconsoleTargetOptions> Targets { get; } = new();

    public string Write()
    {
        var text = new StringBuilder(256);
        Line(text, "facility", Facility.ToString(CultureInfo.InvariantCulture));
        Line(text, "dictionary", WantsDictionary ? "1" : "0");
        Line(text, "flush_ms", ((long)FlushTimeout.TotalMilliseconds).ToString(CultureInfo.InvariantCulture));
        foreach (NetconsoleTargetOptions target in Targets)
        {
            text.Append("target\n");
            Line(text, "name", target.Name);
            Line(text, "device", target.DeviceName);
            Line(text, "device_mac", target.DeviceMac is null ? null : target.DeviceMac.ToString());
            Line(text, "local", target.LocalAddress?.ToString());
            Line(text, "local_port", target.LocalPort.ToString(CultureInfo.InvariantCulture));
            Line(text, "remote", target.RemoteAddress?.ToString());
            Line(text, "remote_port", target.RemotePort.ToString(CultureInfo.InvariantCulture));
            Line(text, "remote_mac", target.RemoteMac is null ? null : target.RemoteMac.ToString());
            Line(text, "extended", target.Extended ? "1" : "0");
            Line(text, "prepend_release", target.PrependRelease ? "1" : "0");
            Line(text, "release", target.Release);
            Line(text, "printk_time", target.PrintkTime ? "1" : "0");
            Line(text, "sysdata", ((int)target.Sysdata).ToString(CultureInfo.InvariantCulture));
            Line(text, "target_facility", target.Facility.ToString(CultureInfo.InvariantCulture));
            Line(text, "max_datagrams_per_second", target.MaxDatagramsPerSecond.ToString(CultureInfo.InvariantCulture));
            Line(text, "max_datagram_burst", target.MaxDatagramBurst.ToString(CultureInfo.InvariantCulture));
            foreach (KeyValuePair<string, string> pair in target.Userdata)
            {
                Line(text, "userdata", Uri.EscapeDataString(pair.Key) + ":" + Uri.EscapeDataString(pair.Value), escaped: true);
            }

            if (target.SigningKey is { } key)
            {
                Line(text, "signing_key", Uri.EscapeDataString(key.KeyId) + ":" + Convert.ToBase64String(key.Secret), escaped: true);
            }
        }

        return text.ToString();
    }

    /// <summary>Reads settings written by <see cref="Write"/>.</summary>
    /// <exception cref="FormatException">A line is not understood.</exception>
    public static WatchdogSettings Parse(string text)
    {
        var settings = new WatchdogSettings();
        NetconsoleTargetOptions? target = null;
        foreach (string line in text.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            if (line == "target")
            {
                target = new NetconsoleTargetOptions();
                settings.Targets.Add(target);
                continue;
            }

            int equals = line.IndexOf('=', StringComparison.Ordinal);
            if (equals <= 0)
            {
                throw new FormatException($"watchdog settings: \"{line}\" is not key=value");
            }

            string key = line[..equals];
            string raw = line[(equals + 1)..];
            string value = Uri.UnescapeDataString(raw);
            switch (key)
            {
                case "facility": settings.Facility = Int(value); break;
                case "dictionary": settings.WantsDictionary = value == "1"; break;
                case "flush_ms": settings.FlushTimeout = TimeSpan.FromMilliseconds(Int(value)); break;
                default:
                    if (target is null)
                    {
                        throw new FormatException($"watchdog settings: {key} outside a target");
                    }

                    Apply(target, key, value, raw);
                    break;
            }
        }

        return settings;
    }

    private static void Apply(NetconsoleTargetOptions target, string key, string value, string raw)
    {
        switch (key)
        {
            case "name": target.Name = value; break;
            case "device": target.DeviceName = value; break;
            case "device_mac": target.DeviceMac = PhysicalAddress.Parse(value); break;
            case "local": target.LocalAddress = IPAddress.Parse(value); break;
            case "local_port": target.LocalPort = Int(value); break;
            case "remote": target.RemoteAddress = IPAddress.Parse(value); break;
            case "remote_port": target.RemotePort = Int(value); break;
            case "remote_mac": target.RemoteMac = PhysicalAddress.Parse(value); break;
            case "extended": target.Extended = value == "1"; break;
            case "prepend_release": target.PrependRelease = value == "1"; break;
            case "release": target.Release = value; break;
            case "printk_time": target.PrintkTime = value == "1"; break;
            case "sysdata": target.Sysdata = (SysdataFields)Int(value); break;
            case "target_facility": target.Facility = Int(value); break;
            case "max_datagrams_per_second": target.MaxDatagramsPerSecond = Int(value); break;
            case "max_datagram_burst": target.MaxDatagramBurst = Int(value); break;
            case "userdata":
            {
                int colon = raw.IndexOf(':', StringComparison.Ordinal);
                target.Userdata.Add(Uri.UnescapeDataString(raw[..colon]), Uri.UnescapeDataString(raw[(colon + 1)..]));
                break;
            }

            case "signing_key":
            {
                int colon = raw.IndexOf(':', StringComparison.Ordinal);
                target.SigningKey = RecordSigningKey.FromBase64(Uri.UnescapeDataString(raw[..colon]), raw[(colon + 1)..]);
                break;
            }

            default:
                throw new FormatException($"watchdog settings: unknown key {key}");
        }
    }

    private static void Line(StringBuilder text, string key, string? value, bool escaped = false)
    {
        if (value is not null)
        {
            text.Append(key).Append('=').Append(escaped ? value : Uri.EscapeDataString(value)).Append('\n');
        }
    }

    private static int Int(string value) => int.Parse(value, NumberStyles.Integer, CultureInfo.InvariantCulture);
}
