using System.Net;
using System.Text;
using Netconsole.Targets;
using Netconsole.Wire;

namespace Netconsole.Tests.Wire;

/// <summary>A record format built without a target writes exactly what the target's would.</summary>
public class RecordFormatTests
{
    private static string Single(RecordFormat format, NetconsoleRecord record)
    {
        var datagrams = new List<string>();
        foreach (ReadOnlySpan<byte> d in new RecordFormatter(format).Format(record))
        {
            datagrams.Add(Encoding.UTF8.GetString(d));
        }

        return datagrams.Should().ContainSingle().Subject;
    }

    [Fact]
    public void A_format_built_directly_writes_the_same_bytes_as_the_targets()
    {
        var options = NetconsoleTargetOptions.Parse("+r@/,@192.0.2.2/");
        options.Release = "6.4.0";
        options.Userdata["region"] = "eu-west-1";
        options.Sysdata = SysdataFields.Release | SysdataFields.MessageId;
        options.Facility = 16;
        var direct = new RecordFormat
        {
            Extended = true,
            PrependRelease = true,
            Release = "6.4.0",
            Facility = 16,
            Userdata = [new("region", "eu-west-1")],
            Sysdata = SysdataFields.Release | SysdataFields.MessageId,
        };
        NetconsoleRecord record = NetconsoleRecord.FromString(6, "disk almost full") with { Sequence = 7, TimestampMicroseconds = 99 };

        Single(direct, record).Should().Be("6.4.0,134,7,99,-;disk almost full\n region=eu-west-1\n release=6.4.0\n msgid=1\n")
            .And.Be(Single(options.ToRecordFormat(), record));
    }

    [Fact]
    public void Defaults_are_the_basic_format_facility_user_and_the_default_release()
    {
        var format = new RecordFormat();

        format.Extended.Should().BeFalse();
        format.PrependRelease.Should().BeFalse();
        format.Facility.Should().Be(1);
        format.Release.Should().Be(RecordFormat.DefaultRelease);
        format.Userdata.Should().BeEmpty();
        format.Sysdata.Should().Be(SysdataFields.None);
    }

    [Fact]
    public void The_format_keeps_a_copy_of_the_userdata_it_was_given()
    {
        var userdata = new List<KeyValuePair<string, string>> { new("a", "1") };
        var format = new RecordFormat { Extended = true, Userdata = userdata };
        userdata.Add(new("b", "2"));

        format.Userdata.Should().ContainSingle().Which.Should().Be(new KeyValuePair<string, string>("a", "1"));
    }

    [Fact]
    public void A_target_format_is_a_snapshot_of_the_options()
    {
        var options = new NetconsoleTargetOptions { RemoteAddress = IPAddress.Parse("192.0.2.2"), Extended = true };
        options.Userdata["a"] = "1";
        RecordFormat format = options.ToRecordFormat();
        options.Userdata["b"] = "2";

        format.Userdata.Should().ContainSingle().Which.Should().Be(new KeyValuePair<string, string>("a", "1"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("6")]
    [InlineData("6,4.0")]
    [InlineData("6.4 0")]
    public void An_unusable_release_is_refused_with_the_rule(string release)
    {
        Action act = () => _ = new RecordFormat { Release = release };

        act.Should().Throw<ArgumentException>().WithMessage("*is not a usable release*Example: \"6.4.0\"*");
    }

    [Fact]
    public void A_release_of_63_characters_is_written_whole_and_one_of_64_is_refused_for_netconsds_sake()
    {
        string release = "6." + new string('9', 61);
        var format = new RecordFormat { Extended = true, PrependRelease = true, Release = release };
        NetconsoleRecord record = NetconsoleRecord.FromString(6, "up") with { Sequence = 3, TimestampMicroseconds = 5 };

        // The release's ',' is the 64th byte: within the first 64 bytes where netconsd looks for it.
        string datagram = Single(format, record);
        datagram.Should().Be(release + ",14,3,5,-;up\n");
        datagram.IndexOf(',', StringComparison.Ordinal).Should().Be(63);

        Action act = () => _ = new RecordFormat { Release = release + "9" };
        act.Should().Throw<ArgumentException>().WithMessage(
            "*is not a usable release: a release is at most 63 characters, and this one has 64 (netconsd looks for the ',' that ends the release within a record's first 64 bytes*");
    }

    [Theory]
    [InlineData(-1)]
    [InlineData(24)]
    public void A_facility_outside_0_to_23_is_refused(int facility)
    {
        Action act = () => _ = new RecordFormat { Facility = facility };

        act.Should().Throw<ArgumentOutOfRangeException>().WithMessage("A facility is 0 (kern) to 23 (local7).*");
    }

    [Fact]
    public void Userdata_over_6144_bytes_is_refused_as_the_target_refuses_it()
    {
        // 32 lines of " kNN=" + 190 bytes + "\n" = 32 * 196 = 6272 bytes.
        var userdata = Enumerable.Range(0, 32).Select(i => new KeyValuePair<string, string>($"k{i:00}", new string('v', 190))).ToList();

        Action act = () => _ = new RecordFormat { Extended = true, Userdata = userdata };

        act.Should().Throw<ArgumentException>().WithMessage("The userdata lines total 6272 bytes; at most 6144 are allowed*");
        UserdataCollection.MaxTotalBytes.Should().Be(6144);
    }

    [Fact]
    public void The_release_prefix_without_the_extended_format_is_refused_by_the_formatter()
    {
        Action act = () => _ = new RecordFormatter(new RecordFormat { PrependRelease = true });

        act.Should().Throw<ArgumentException>().WithMessage("The release prefix (PrependRelease) needs the extended format (Extended).*");
    }
}
