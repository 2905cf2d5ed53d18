using Netconsole.Targets;

namespace Netconsole.Tests.Targets;

/// <summary>Every rule of the target syntax, broken once: the error says where and why.</summary>
public class TargetSyntaxErrorTests
{
    private static NetconsoleConfigurationException ParseError(string text) =>
        FluentActions.Invoking(() => NetconsoleTargetOptions.Parse(text))
            .Should().Throw<NetconsoleConfigurationException>().Which;

    private static NetconsoleConfigurationException ParseManyError(string text) =>
        FluentActions.Invoking(() => NetconsoleTargetOptions.ParseMany(text))
            .Should().Throw<NetconsoleConfigurationException>().Which;

    [Fact]
    public void Error_message_names_the_target_the_position_the_rule_and_an_example()
    {
        var error = ParseError("6666@10.0.0.1eth0,@10.0.0.2/");

        error.Message.Should().Be(
            "Invalid netconsole target \"6666@10.0.0.1eth0,@10.0.0.2/\" at position 13: the source address must be followed by '/' before the device. Example: \"6665@10.0.0.1/eth0,6666@10.0.0.2/12:34:56:78:9a:bc\".");
        error.Input.Should().Be("6666@10.0.0.1eth0,@10.0.0.2/");
        error.Position.Should().Be(13);
        error.Rule.Should().Be("the source address must be followed by '/' before the device");
        error.Example.Should().Be("6665@10.0.0.1/eth0,6666@10.0.0.2/12:34:56:78:9a:bc");
    }

    [Fact]
    public void Error_is_an_argument_exception()
    {
        ParseError("@/,@/").Should().BeAssignableTo<ArgumentException>();
    }

    [Fact]
    public void Bare_r_without_plus_is_rejected_because_release_requires_extended_format()
    {
        var error = ParseError("r@/,@192.0.2.2/");

        error.Position.Should().Be(0);
        error.Message.Should().Contain("release requires extended format");
    }

    [Fact]
    public void R_before_plus_is_rejected_because_release_requires_extended_format()
    {
        var error = ParseError("r+@/,@192.0.2.2/");

        error.Position.Should().Be(0);
        error.Message.Should().Contain("release requires extended format");
    }

    [Fact]
    public void Missing_at_after_the_local_port_is_reported_right_after_its_digits()
    {
        var error = ParseError("6665/,@10.0.0.2/");

        error.Position.Should().Be(4);
        error.Message.Should().Contain("the local port must be followed by '@'");
    }

    [Fact]
    public void Source_address_without_its_at_is_reported_where_the_at_belongs()
    {
        ParseError("10.0.0.1/eth0,@10.0.0.2/").Position.Should().Be(0);
    }

    [Fact]
    public void Missing_slash_after_the_source_address_is_reported_at_the_end_of_the_address()
    {
        var error = ParseError("@10.0.0.1,@10.0.0.2/");

        error.Position.Should().Be(9);
        error.Message.Should().Contain("the source address must be followed by '/'");
    }

    [Fact]
    public void Missing_slash_after_an_ipv6_source_address_is_reported_at_the_end_of_the_address()
    {
        ParseError("@fd00::1veth0,@fd00::2/").Position.Should().Be(8);
    }

    [Fact]
    public void Missing_comma_after_the_device_is_reported_where_the_comma_belongs()
    {
        var error = ParseError("@/eth0@10.0.0.2/");

        error.Position.Should().Be(6);
        error.Message.Should().Contain("the device must be followed by ','");
    }

    [Fact]
    public void Remote_address_without_its_at_is_reported_where_the_at_belongs()
    {
        var error = ParseError("@/,10.0.0.2/");

        error.Position.Should().Be(3);
        error.Message.Should().Contain("the remote port must be followed by '@'");
    }

    [Fact]
    public void Missing_slash_after_the_remote_address_is_reported_at_its_end()
    {
        var error = ParseError("@/,@10.0.0.2");

        error.Position.Should().Be(12);
        error.Message.Should().Contain("the remote address must be followed by '/'");
    }

    [Theory]
    [InlineData("@/,@/")]
    [InlineData("@/,@")]
    [InlineData("4444@10.0.0.1/eth1,9353@/12:34:56:78:9a:bc")]
    public void Remote_address_is_the_one_required_field(string text)
    {
        var error = ParseError(text);

        error.Position.Should().Be(text.LastIndexOf('@') + 1);
        error.Message.Should().Contain("the remote address is required");
    }

    [Theory]
    [InlineData("@/,@10.0.0.256/", "10.0.0.256")]
    [InlineData("@/,@10.1/", "10.1")]
    [InlineData("@/,@010.0.0.1.5/", "010.0.0.1.5")]
    [InlineData("@/,@0x0a.0.0.1/", "0x0a.0.0.1")]
    [InlineData("@/,@fd00:::1/", "fd00:::1")]
    [InlineData("@/,@fe80::1%eth0/", "fe80::1%eth0")]
    [InlineData("@/,@host.example/", "host.example")]
    public void Invalid_remote_address_is_reported_at_its_start_and_quoted(string text, string address)
    {
        var error = ParseError(text);

        error.Position.Should().Be(4);
        error.Message.Should().Contain($"\"{address}\" is not an IPv4 or IPv6 address");
    }

    [Fact]
    public void Invalid_source_address_is_reported_at_its_start_and_quoted()
    {
        var error = ParseError("@10.0.0.999/,@10.0.0.2/");

        error.Position.Should().Be(1);
        error.Message.Should().Contain("\"10.0.0.999\"");
    }

    [Fact]
    public void Bracketed_ipv6_address_is_rejected_with_a_hint_to_write_it_bare()
    {
        var error = ParseError("@/,@[fd00::1]/");

        error.Position.Should().Be(4);
        error.Message.Should().Contain("without brackets");
    }

    [Fact]
    public void Ipv4_source_with_ipv6_remote_is_rejected_at_the_remote_address()
    {
        var error = ParseError("@10.0.0.1/,@fd00::2/");

        error.Position.Should().Be(12);
        error.Message.Should().Contain("same family");
    }

    [Fact]
    public void Ipv6_source_with_ipv4_remote_is_rejected_at_the_remote_address()
    {
        ParseError("@fd00::1/,@10.0.0.2/").Position.Should().Be(11);
    }

    [Theory]
    [InlineData("0@/,@10.0.0.2/", 0, "0")]
    [InlineData("65536@/,@10.0.0.2/", 0, "65536")]
    [InlineData("99999999999@/,@10.0.0.2/", 0, "99999999999")]
    [InlineData("6x6@/,@10.0.0.2/", 0, "6x6")]
    [InlineData("++66@/,@10.0.0.2/", 1, "+66")]
    [InlineData("+rr@/,@10.0.0.2/", 2, "r")]
    public void Local_port_outside_1_to_65535_or_not_decimal_is_rejected(string text, int position, string port)
    {
        var error = ParseError(text);

        error.Position.Should().Be(position);
        error.Message.Should().Contain($"the local port \"{port}\"");
    }

    [Theory]
    [InlineData("@/,0@10.0.0.2/", "0")]
    [InlineData("@/,65536@10.0.0.2/", "65536")]
    [InlineData("@/,0x1A@10.0.0.2/", "0x1A")]
    [InlineData("@/,-1@10.0.0.2/", "-1")]
    public void Remote_port_outside_1_to_65535_or_not_decimal_is_rejected(string text, string port)
    {
        var error = ParseError(text);

        error.Position.Should().Be(3);
        error.Message.Should().Contain($"the remote port \"{port}\"");
    }

    [Fact]
    public void Device_name_of_16_characters_is_rejected_because_the_kernel_allows_fewer_than_16()
    {
        var error = ParseError("@/abcdefghijklmnop,@192.0.2.2/");

        error.Position.Should().Be(2);
        error.Message.Should().Contain("\"abcdefghijklmnop\"").And.Contain("at most 15 bytes");
    }

    [Theory]
    [InlineData("@/.,@192.0.2.2/")]
    [InlineData("@/..,@192.0.2.2/")]
    [InlineData("@/eth\u00010,@192.0.2.2/")]
    public void Device_name_that_linux_would_refuse_is_rejected(string text)
    {
        ParseError(text).Position.Should().Be(2);
    }

    [Theory]
    [InlineData("@/22:33:44:55:66,@192.0.2.2/", "22:33:44:55:66")]
    [InlineData("@/22:33:44:55:66:77:88,@192.0.2.2/", "22:33:44:55:66:77:88")]
    [InlineData("@/eth0:1,@192.0.2.2/", "eth0:1")]
    [InlineData("@/2:33:44:55:66:777,@192.0.2.2/", "2:33:44:55:66:777")]
    public void Device_with_a_colon_that_is_not_a_mac_is_rejected(string text, string device)
    {
        var error = ParseError(text);

        error.Position.Should().Be(2);
        error.Message.Should().Contain($"\"{device}\"").And.Contain("xx:xx:xx:xx:xx:xx");
    }

    [Theory]
    [InlineData("@/,@10.0.0.2/12:34:56:78:9a", "12:34:56:78:9a")]
    [InlineData("@/,@10.0.0.2/12-34-56-78-9a-bc", "12-34-56-78-9a-bc")]
    [InlineData("@/,@10.0.0.2/12:34:56:78:9a:bg", "12:34:56:78:9a:bg")]
    [InlineData("@/,@10.0.0.2/12:34:56:78:9a:bc:de", "12:34:56:78:9a:bc:de")]
    [InlineData("@/,@10.0.0.2/12:34:56:78:9a:bc/", "12:34:56:78:9a:bc/")]
    public void Remote_mac_not_written_as_six_colon_separated_octets_is_rejected(string text, string mac)
    {
        var error = ParseError(text);

        error.Position.Should().Be(13);
        error.Message.Should().Contain($"\"{mac}\"");
    }

    [Theory]
    [InlineData(" @/,@10.0.0.2/", 0)]
    [InlineData("@/,@10.0.0.2/ ", 13)]
    [InlineData("@/, @10.0.0.2/", 3)]
    [InlineData("@/,@10.0.0.2/\n", 13)]
    public void Whitespace_anywhere_is_rejected_rather_than_trimmed(string text, int position)
    {
        var error = ParseError(text);

        error.Position.Should().Be(position);
        error.Message.Should().Contain("whitespace");
    }

    [Fact]
    public void Target_of_255_characters_is_accepted()
    {
        string text = new string('0', 255 - "6665@/,@10.0.0.2/".Length) + "6665@/,@10.0.0.2/";

        text.Length.Should().Be(NetconsoleTargetOptions.MaxTargetStringLength);
        NetconsoleTargetOptions.Parse(text).LocalPort.Should().Be(6665);
    }

    [Fact]
    public void Target_of_256_characters_is_rejected_because_the_kernel_buffer_holds_255_and_a_nul()
    {
        string text = new string('0', 256 - "6665@/,@10.0.0.2/".Length) + "6665@/,@10.0.0.2/";

        var error = ParseError(text);

        error.Position.Should().Be(255);
        error.Message.Should().Contain("at most 255");
    }

    [Fact]
    public void Empty_target_is_rejected()
    {
        var error = ParseError(string.Empty);

        error.Position.Should().Be(0);
        error.Message.Should().Contain("remote address");
    }

    [Fact]
    public void Parse_rejects_a_semicolon_and_points_to_ParseMany()
    {
        var error = ParseError("@/,@10.0.0.2/;@/,@10.0.0.3/");

        error.Position.Should().Be(13);
        error.Message.Should().Contain("ParseMany");
    }

    [Fact]
    public void Parse_of_null_throws_ArgumentNullException()
    {
        FluentActions.Invoking(() => NetconsoleTargetOptions.Parse(null!)).Should().Throw<ArgumentNullException>();
    }

    [Fact]
    public void ParseMany_reports_an_error_in_a_later_target_at_its_position_in_the_whole_string()
    {
        const string text = "@/,@10.0.0.2/;@/eth1,6892@10.0.0.300/";

        var error = ParseManyError(text);

        error.Input.Should().Be(text);
        error.Position.Should().Be(26);
        error.Message.Should().Contain("\"10.0.0.300\"");
    }

    [Fact]
    public void ParseMany_rejects_a_bare_r_in_the_second_target()
    {
        var error = ParseManyError("+r@/,@10.0.0.2/;r@/,@10.0.0.3/");

        error.Position.Should().Be(16);
        error.Message.Should().Contain("release requires extended format");
    }

    [Theory]
    [InlineData("")]
    [InlineData(";")]
    [InlineData(";;")]
    public void ParseMany_without_any_target_is_rejected(string text)
    {
        var error = ParseManyError(text);

        error.Position.Should().Be(0);
        error.Message.Should().Contain("there is no target");
    }

    [Fact]
    public void ParseMany_applies_the_255_character_limit_to_the_whole_string()
    {
        string one = "@/,@10.0.0.2/;";
        string text = string.Concat(Enumerable.Repeat(one, 19)); // 266 characters, each target valid

        ParseManyError(text).Position.Should().Be(255);
    }
}
