namespace Netconsole.Tests.Netconsd;

/// <summary>The probe module's lines, as the netconsd tests read them (no netconsd needed).</summary>
public sealed class NetconsdMessageTests
{
    [Fact]
    public void An_ext_line_gives_every_field_with_the_percent_escapes_undone()
    {
        const string Line = "ncprobe\text\tsrc=::ffff:192.0.2.1\tseq=12\tts=42\tfacility=16\tlevel=6\tflags=cont_start,seq_reset\tmissing=0"
            + "\trelease=6.1.0\ttext=100%25 \\x5c caf%c3%a9\tdict= KEY=V%0a K2=W%0a";

        NetconsdMessage message = NetconsdMessage.TryParse(Line)!;

        message.Should().Be(new NetconsdMessage(true, "::ffff:192.0.2.1", 12, 42, 16, 6, "cont_start,seq_reset", 0, "6.1.0",
            "100% \\x5c café", " KEY=V\n K2=W\n", Line));
    }

    [Fact]
    public void A_plain_line_gives_the_datagram_and_an_ext_line_without_dict_has_none()
    {
        NetconsdMessage plain = NetconsdMessage.TryParse("ncprobe\tplain\tsrc=2001:db8::1\tbytes=6\ttext=hello%0a")!;
        NetconsdMessage noDictionary = NetconsdMessage.TryParse("ncprobe\text\tsrc=2001:db8::1\tseq=1\tts=0\tfacility=0\tlevel=0\tflags=-\tmissing=5\trelease=\ttext=cut")!;

        (plain.Extended, plain.Source, plain.Text, plain.Dictionary).Should().Be((false, "2001:db8::1", "hello\n", (string?)null));
        (noDictionary.Extended, noDictionary.Missing, noDictionary.Text, noDictionary.Dictionary).Should().Be((true, 5, "cut", (string?)null));
    }

    [Theory]
    [InlineData("[netconsd] output.c:34: INFO: Loading module 'ncprobe.so'")]
    [InlineData("                        ::ffff:192.0.2.1:  S000001 T00000000000042 F1/L6 hello")]
    [InlineData("ncprobe\tinit\tworkers=2")]
    [InlineData("ncprobe\texit")]
    public void Other_lines_are_not_messages(string line) => NetconsdMessage.TryParse(line).Should().BeNull();
}
