using System.Net;
using System.Net.NetworkInformation;
using Netconsole.Devices;
using Netconsole.Targets;

namespace Netconsole.Tests.Targets;

/// <summary>
/// DeviceName takes the names of the system it runs on: Linux interface names on Linux, the
/// names Windows, Npcap and macOS give devices elsewhere. The kernel syntax (Parse) takes Linux
/// names everywhere, and off Linux says what to do with a name it cannot carry. These tests run
/// on Linux and pretend to be the other systems (HostPlatform.Pretend, for this test's flow only).
/// </summary>
public class DeviceNamePlatformTests
{
    private const string NpcapName = @"\Device\NPF_{4D36E972-E325-11CE-BFC1-08002BE10318}";
    private const string ConnectionName = "Ethernet 2";

    private static readonly IPAddress Remote = IPAddress.Parse("192.0.2.2");

    private static NetconsoleConfigurationException Rejects(Action action) =>
        FluentActions.Invoking(action).Should().Throw<NetconsoleConfigurationException>().Which;

    [Theory]
    [InlineData(NpcapName)]
    [InlineData(ConnectionName)]
    [InlineData("Wi-Fi")]
    [InlineData("vEthernet (Default Switch)")]
    [InlineData("en0")]
    [InlineData("eth0")]
    public void Windows_and_macos_names_are_valid_device_names_off_linux(string name)
    {
        NetconsoleTargetOptions.DeviceNameRule(name, HostKind.Windows).Should().BeNull();
        NetconsoleTargetOptions.DeviceNameRule(name, HostKind.MacOS).Should().BeNull();
    }

    [Theory]
    [InlineData(NpcapName, "at most 15 bytes")]
    [InlineData(ConnectionName, "whitespace")]
    public void The_same_names_break_the_kernel_rule_on_linux(string name, string rule)
    {
        NetconsoleTargetOptions.DeviceNameRule(name, HostKind.Linux).Should().Contain(rule);
    }

    [SkippableFact]
    public void On_this_linux_machine_the_setter_keeps_the_kernel_rule()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "it checks Linux's own rules too");
        HostPlatform.IsLinux.Should().BeTrue("the tests run on Linux");

        var error = Rejects(() => new NetconsoleTargetOptions().DeviceName = ConnectionName);

        error.ParamName.Should().Be(nameof(NetconsoleTargetOptions.DeviceName));
        error.Example.Should().Be("eth0");
    }

    [Theory]
    [InlineData(nameof(HostKind.Windows), NpcapName)]
    [InlineData(nameof(HostKind.Windows), ConnectionName)]
    [InlineData(nameof(HostKind.MacOS), "en0")]
    public void Off_linux_the_setter_and_Validate_take_the_platform_name(string platform, string name)
    {
        using IDisposable pretend = HostPlatform.Pretend(Enum.Parse<HostKind>(platform));
        var options = new NetconsoleTargetOptions { DeviceName = name, RemoteAddress = Remote };

        options.Validate();

        options.DeviceName.Should().Be(name);
        options.Clone().DeviceName.Should().Be(name);
    }

    [Fact]
    public void A_platform_name_is_at_most_256_characters()
    {
        string longest = new('a', NetconsoleTargetOptions.MaxPlatformDeviceNameLength);

        NetconsoleTargetOptions.PlatformDeviceNameRule(longest).Should().BeNull();
        NetconsoleTargetOptions.PlatformDeviceNameRule(longest + "a").Should().Be("a device name is at most 256 characters, and this one has 257");
    }

    [Theory]
    [InlineData("Ethernet\t2", "control characters")]
    [InlineData("Ethernet\n", "control characters")]
    [InlineData(" Ethernet 2", "cannot start or end with whitespace")]
    [InlineData("Ethernet 2 ", "cannot start or end with whitespace")]
    [InlineData("12:34:56:78:9a:bc", "DeviceMac")]
    [InlineData("LAN, floor 2", "'/', ',', '@' or ';'")]
    [InlineData("a/b", "'/', ',', '@' or ';'")]
    [InlineData("a@b", "'/', ',', '@' or ';'")]
    [InlineData("a;b", "'/', ',', '@' or ';'")]
    public void A_platform_name_has_no_control_characters_no_outer_whitespace_and_no_delimiter_of_the_syntax(string name, string rule)
    {
        NetconsoleTargetOptions.PlatformDeviceNameRule(name).Should().Contain(rule);

        using IDisposable pretend = HostPlatform.Pretend(HostKind.Windows);
        var error = Rejects(() => new NetconsoleTargetOptions().DeviceName = name);
        error.Input.Should().Be(name);
        error.Example.Should().Be(ConnectionName);
    }

    [Theory]
    [InlineData("eth0")]
    [InlineData("en0")]
    [InlineData("veth-lab.10")]
    [InlineData("abcdefghijklmno")]
    public void Every_kernel_name_is_a_platform_name_so_a_parsed_target_is_valid_everywhere(string name)
    {
        NetconsoleTargetOptions.KernelDeviceNameRule(name).Should().BeNull();
        NetconsoleTargetOptions.PlatformDeviceNameRule(name).Should().BeNull();
    }

    [Fact]
    public void The_macos_example_is_en0()
    {
        using IDisposable pretend = HostPlatform.Pretend(HostKind.MacOS);

        Rejects(() => new NetconsoleTargetOptions().DeviceName = " en0").Example.Should().Be("en0");
    }

    [Fact]
    public void Off_linux_Parse_keeps_the_kernel_rule_and_says_to_use_the_options_api_for_a_long_name()
    {
        using IDisposable pretend = HostPlatform.Pretend(HostKind.Windows);
        string text = $"@/{NpcapName},@192.0.2.2/";

        var error = Rejects(() => NetconsoleTargetOptions.Parse(text));

        error.Position.Should().Be(2);
        error.Message.Should().Be(
            $"Invalid netconsole target \"{text}\" at position 2: the device \"{NpcapName}\" is not a valid interface name: "
            + "a device name is at most 15 bytes (the kernel's IFNAMSIZ of 16 includes the terminating NUL), and this one has 50; "
            + "the kernel syntax takes Linux interface names only (at most 15 bytes, no whitespace): on this system set "
            + "NetconsoleTargetOptions.DeviceName through the options API, or bind the target by MAC (a MAC in place of the device). "
            + "Example: \"@/22:33:44:55:66:77,@192.0.2.2/\".");
    }

    [Fact]
    public void Off_linux_Parse_says_to_use_the_options_api_for_a_name_with_a_space()
    {
        using IDisposable pretend = HostPlatform.Pretend(HostKind.Windows);
        const string Text = "+@/Ethernet 2,@192.0.2.2/";

        var error = Rejects(() => NetconsoleTargetOptions.Parse(Text));

        error.Position.Should().Be(11);
        error.Rule.Should().Be(
            "whitespace is not allowed anywhere in a target (it is not trimmed either); the device \"Ethernet 2\" has some: "
            + NetconsoleTargetOptions.KernelSyntaxNameHint);
        error.Example.Should().Be("@/22:33:44:55:66:77,@192.0.2.2/");
    }

    [Fact]
    public void Off_linux_ParseMany_points_at_the_device_of_the_target_that_has_the_space()
    {
        using IDisposable pretend = HostPlatform.Pretend(HostKind.Windows);

        var error = Rejects(() => NetconsoleTargetOptions.ParseMany("@/en0,@192.0.2.2/;6665@192.0.2.1/Wi Fi,@192.0.2.3/"));

        error.Position.Should().Be(35);
        error.Rule.Should().Contain("the device \"Wi Fi\" has some").And.Contain("options API");
    }

    [Theory]
    [InlineData("@ /,@192.0.2.2/")]
    [InlineData("@/en0,@192.0.2.2/ ")]
    [InlineData("@/en0, @192.0.2.2/")]
    public void Off_linux_whitespace_outside_the_device_gets_no_device_hint(string text)
    {
        using IDisposable pretend = HostPlatform.Pretend(HostKind.Windows);

        Rejects(() => NetconsoleTargetOptions.Parse(text)).Rule.Should().Be("whitespace is not allowed anywhere in a target (it is not trimmed either)");
    }

    [Fact]
    public void Off_linux_a_name_no_system_takes_gets_no_hint()
    {
        using IDisposable pretend = HostPlatform.Pretend(HostKind.Windows);

        Rejects(() => NetconsoleTargetOptions.Parse("@/a\u0001b,@192.0.2.2/")).Rule.Should().NotContain("options API");
    }

    [SkippableTheory]
    [InlineData("@/Ethernet 2,@192.0.2.2/")]
    [InlineData(@"@/\Device\NPF_{4D36E972-E325-11CE-BFC1-08002BE10318},@192.0.2.2/")]
    public void On_linux_the_kernel_syntax_errors_are_unchanged(string text)
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "it checks Linux's own rules too");
        Rejects(() => NetconsoleTargetOptions.Parse(text)).Message.Should().NotContain("options API");
    }

    [Fact]
    public void ToString_writes_a_platform_name_as_it_is_and_Parse_rejects_it_loudly()
    {
        using IDisposable pretend = HostPlatform.Pretend(HostKind.Windows);
        var options = new NetconsoleTargetOptions { DeviceName = ConnectionName, RemoteAddress = Remote };

        string text = options.ToString();

        text.Should().Be("6665@/Ethernet 2,6666@192.0.2.2/");
        Rejects(() => NetconsoleTargetOptions.Parse(text)).Rule.Should().Contain("set NetconsoleTargetOptions.DeviceName through the options API");
        NetconsoleTargetOptions.TryParse(text, out _).Should().BeFalse();
    }

    [Fact]
    public void Binding_by_mac_is_written_and_parsed_back_the_same_on_every_system()
    {
        var mac = PhysicalAddress.Parse("22-33-44-55-66-77");
        var options = new NetconsoleTargetOptions { DeviceMac = mac, RemoteAddress = Remote };

        using IDisposable pretend = HostPlatform.Pretend(HostKind.Windows);
        NetconsoleTargetOptions.Parse(options.ToString()).DeviceMac.Should().Be(mac);
    }

    [SkippableFact]
    public void Pretending_applies_to_this_flow_only_and_ends_with_the_scope()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "it checks Linux's own rules too");
        HostKind seenElsewhere = HostKind.Other;
        using (HostPlatform.Pretend(HostKind.Windows))
        {
            HostPlatform.Current.Should().Be(HostKind.Windows);
            HostPlatform.IsLinux.Should().BeFalse();
            var worker = new Thread(() => seenElsewhere = HostPlatform.Current);
            worker.Start();
            worker.Join();
            seenElsewhere.Should().Be(HostKind.Windows, "a thread started inside the scope flows with it (a manager's worker, a watcher's thread)");

            var unrelated = new Thread(() => seenElsewhere = HostPlatform.Current);
            using (ExecutionContext.SuppressFlow())
            {
                unrelated.Start();
            }

            unrelated.Join();
            seenElsewhere.Should().Be(HostKind.Linux, "a flow that did not start inside the scope keeps the real system");
        }

        HostPlatform.Current.Should().Be(HostKind.Linux);
        HostPlatform.IsLinux.Should().BeTrue();
    }

    [Fact]
    public void Linux_cannot_be_pretended()
    {
        FluentActions.Invoking(() => HostPlatform.Pretend(HostKind.Linux)).Should().Throw<ArgumentOutOfRangeException>();
    }
}
