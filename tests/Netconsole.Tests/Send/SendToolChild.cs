using System.Diagnostics;
using Netconsole.Devices;
using Netconsole.Lab;
using Netconsole.Tests.Support;

namespace Netconsole.Tests.Send;

/// <summary>netconsole-send as a child process of a lab test.</summary>
internal static class SendToolChild
{
    /// <summary>
    /// <c>netconsole-send --stdin --seq 1</c> to the lab's peer (its address and MAC, from the
    /// lab's device), with every stream redirected and <paramref name="more"/> arguments after.
    /// </summary>
    public static ProcessStartInfo StdinToPeer(NetworkLab lab, params string[] more)
    {
        var start = new ProcessStartInfo(ChildProcess.DotnetHost())
        {
            ArgumentList =
            {
                Path.Combine(AppContext.BaseDirectory, "netconsole-send.dll"),
                "--target", $"+@{lab.DeviceIPv4}/{lab.DeviceName},@{lab.PeerIPv4}/{MacAddressText.Format(lab.PeerMac)}",
                "--stdin", "--seq", "1",
            },
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string argument in more)
        {
            start.ArgumentList.Add(argument);
        }

        return start;
    }
}
