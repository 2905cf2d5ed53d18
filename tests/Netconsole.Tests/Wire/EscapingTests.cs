using System.Text;
using Netconsole.Wire;

namespace Netconsole.Tests.Wire;

public class EscapingTests
{
    [Fact]
    public void Control_bytes_high_bytes_and_backslash_become_lowercase_hex()
    {
        byte[] source = [(byte)'a', 0x0a, (byte)'\\', 0x7f, 0xff, (byte)'=', 0x1f];
        var destination = new byte[Escaping.EscapedLength(source)];
        int n = Escaping.Escape(source, destination);
        Encoding.ASCII.GetString(destination, 0, n).Should().Be(@"a\x0a\x5c\x7f\xff=\x1f");
    }

    [Fact]
    public void Equals_is_escaped_only_when_asked()
    {
        byte[] source = "K=V"u8.ToArray();
        var destination = new byte[Escaping.EscapedLength(source, escapeEquals: true)];
        int n = Escaping.Escape(source, destination, escapeEquals: true);
        Encoding.ASCII.GetString(destination, 0, n).Should().Be(@"K\x3dV");
    }

    [Fact]
    public void Unescape_reverses_escape_for_every_byte_value()
    {
        byte[] all = Enumerable.Range(0, 256).Select(i => (byte)i).ToArray();
        var escaped = new byte[Escaping.EscapedLength(all)];
        Escaping.Escape(all, escaped);
        var back = new byte[escaped.Length];
        int n = Escaping.Unescape(escaped, back);
        back.AsSpan(0, n).ToArray().Should().Equal(all);
    }

    [Fact]
    public void Unescape_keeps_a_backslash_that_starts_no_valid_escape()
    {
        byte[] source = @"a\xZ1\x4"u8.ToArray();
        var back = new byte[source.Length];
        int n = Escaping.Unescape(source, back);
        Encoding.ASCII.GetString(back, 0, n).Should().Be(@"a\xZ1\x4");
    }
}
