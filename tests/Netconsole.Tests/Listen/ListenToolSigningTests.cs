using System.Net;
using Netconsole.Listen;
using Netconsole.Targets;
using Netconsole.Tests.Receiving;
using Netconsole.Wire;

namespace Netconsole.Tests.Listen;

/// <summary>
/// netconsole-listen with keys (--key KEYID=FILE, --key-env KEYID=VARIABLE): each record is marked
/// verified, unsigned, invalid or with an unknown key; --require-verified prints only the verified
/// ones; the summary counts them. Secrets never come from the command line.
/// </summary>
public sealed class ListenToolSigningTests : IDisposable
{
    private static readonly byte[] Secret = Enumerable.Range(100, 32).Select(i => (byte)i).ToArray();
    private readonly string _keyFile = Path.GetTempFileName();

    public ListenToolSigningTests() => File.WriteAllText(_keyFile, Convert.ToBase64String(Secret));

    public void Dispose() => File.Delete(_keyFile);

    private static NetconsoleTargetOptions Signed(string keyId) => new()
    {
        RemoteAddress = IPAddress.Loopback,
        Extended = true,
        SigningKey = new RecordSigningKey(keyId, Secret),
    };

    private static async Task<(int Exit, string[] Stdout, string[] Stderr, IPEndPoint From)> RunAsync(string[] options, int count, Action<IPEndPoint> send)
    {
        var stdout = new StringWriter { NewLine = "\n" };
        var stderr = new StringWriter { NewLine = "\n" };
        IPEndPoint? local = null;
        Task<int> run = ListenTool.RunAsync(["--address", "127.0.0.1", "--port", "0", "--timeout", "30", "--count", $"{count}", .. options], stdout, stderr, endpoint => local = endpoint, CancellationToken.None);
        IPEndPoint from = new(IPAddress.Loopback, 0);
        if (local is not null)
        {
            send(local);
        }

        int exit = await run.WaitAsync(TestWait.Timeout);
        return (exit, stdout.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), stderr.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries), from);
    }

    [Fact]
    public async Task Each_record_is_marked_by_what_its_signature_says()
    {
        (int exit, string[] stdout, string[] stderr, _) = await RunAsync(["--key", $"k1={_keyFile}"], 3, local =>
        {
            using (var signed = new TestSender(local, Signed("k1")))
            {
                signed.Send(TestSender.Record(1, "signed"));
            }

            using (var unknown = new TestSender(local, Signed("k9")))
            {
                unknown.Send(TestSender.Record(1, "other key"));
            }

            using var plain = new TestSender(local);
            plain.Send(TestSender.Record(1, "plain"));
        });

        exit.Should().Be(0, string.Join("\n", stderr));
        stdout.Should().HaveCount(3);
        stdout.Should().ContainSingle(l => l.Contains("[verified k1] signed", StringComparison.Ordinal));
        stdout.Should().ContainSingle(l => l.Contains("[unknown key k9] other key", StringComparison.Ordinal));
        stdout.Should().ContainSingle(l => l.Contains("[unsigned] plain", StringComparison.Ordinal));
        stderr.Should().Contain("netconsole-listen: signatures: 1 verified, 0 invalid, 1 with an unknown key, 0 replays rejected, 0 unverified rejected");
    }

    [Fact]
    public async Task With_require_verified_only_verified_records_are_printed()
    {
        string variable = "NETCONSOLE_TEST_LISTEN_KEY_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, Convert.ToBase64String(Secret));
        try
        {
            (int exit, string[] stdout, string[] stderr, _) = await RunAsync(["--key-env", $"k1={variable}", "--require-verified"], 1, local =>
            {
                using (var plain = new TestSender(local))
                {
                    plain.Send(TestSender.Record(1, "plain, dropped"));
                }

                using var signed = new TestSender(local, Signed("k1"));
                signed.Send(TestSender.Record(1, "signed, printed"));
            });

            exit.Should().Be(0, string.Join("\n", stderr));
            stdout.Should().ContainSingle().Which.Should().Contain("[verified k1] signed, printed");
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Theory]
    [InlineData(new[] { "--require-verified" }, "--require-verified needs a key")]
    [InlineData(new[] { "--key", "k1" }, "--key takes KEYID=FILE")]
    [InlineData(new[] { "--key", "k1=/nonexistent/key" }, "--key k1: cannot read /nonexistent/key")]
    [InlineData(new[] { "--key-env", "k1=NETCONSOLE_TEST_UNSET" }, "the environment variable NETCONSOLE_TEST_UNSET is not set")]
    public async Task A_key_option_that_cannot_be_used_is_a_usage_error(string[] options, string message)
    {
        var stderr = new StringWriter();

        int exit = await ListenTool.RunAsync([.. options], new StringWriter(), stderr, CancellationToken.None);

        exit.Should().Be(ListenTool.UsageError);
        stderr.ToString().Should().Contain(message);
    }
}
