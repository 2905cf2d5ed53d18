using Netconsole.Targets;

namespace Netconsole.Tests.Targets;

/// <summary>Userdata keeps configuration order and the kernel's limits, plus a total cap for netconsd.</summary>
public class UserdataCollectionTests
{
    private static NetconsoleConfigurationException Rejects(Action write) =>
        FluentActions.Invoking(write).Should().Throw<NetconsoleConfigurationException>().Which;

    [Fact]
    public void Entries_keep_the_order_they_were_added_in()
    {
        var userdata = new UserdataCollection { { "zone", "b" }, { "app", "api" }, { "region", "eu" } };

        userdata.Select(p => p.Key).Should().Equal("zone", "app", "region");
        userdata[1].Should().Be(new KeyValuePair<string, string>("app", "api"));
    }

    [Fact]
    public void Setting_an_existing_key_replaces_its_value_in_place()
    {
        var userdata = new UserdataCollection { { "a", "1" }, { "b", "2" } };

        userdata["a"] = "one";

        userdata.Select(p => $"{p.Key}={p.Value}").Should().Equal("a=one", "b=2");
    }

    [Fact]
    public void Setting_a_new_key_adds_it_at_the_end()
    {
        var userdata = new UserdataCollection { { "a", "1" } };

        userdata["b"] = "2";

        userdata.Select(p => p.Key).Should().Equal("a", "b");
        userdata["b"].Should().Be("2");
    }

    [Fact]
    public void Add_of_an_existing_key_is_rejected()
    {
        var userdata = new UserdataCollection { { "a", "1" } };

        Rejects(() => userdata.Add("a", "2")).Message.Should().Contain("\"a\" is already present");
        userdata["a"].Should().Be("1");
    }

    [Fact]
    public void Getting_a_missing_key_throws_KeyNotFoundException()
    {
        FluentActions.Invoking(() => new UserdataCollection()["missing"]).Should().Throw<KeyNotFoundException>();
    }

    [Fact]
    public void Remove_takes_out_one_entry_and_keeps_the_order_of_the_others()
    {
        var userdata = new UserdataCollection { { "a", "1" }, { "b", "2" }, { "c", "3" } };

        userdata.Remove("b").Should().BeTrue();
        userdata.Remove("b").Should().BeFalse();

        userdata.Select(p => p.Key).Should().Equal("a", "c");
    }

    [Fact]
    public void ContainsKey_and_TryGetValue_compare_keys_ordinally()
    {
        var userdata = new UserdataCollection { { "Region", "eu" } };

        userdata.ContainsKey("Region").Should().BeTrue();
        userdata.ContainsKey("region").Should().BeFalse();
        userdata.TryGetValue("Region", out string? value).Should().BeTrue();
        value.Should().Be("eu");
        userdata.TryGetValue("region", out _).Should().BeFalse();
    }

    [Fact]
    public void Clear_removes_everything()
    {
        var userdata = new UserdataCollection { { "a", "1" }, { "b", "2" } };

        userdata.Clear();

        userdata.Should().BeEmpty();
        userdata.FormattedLength.Should().Be(0);
    }

    [Fact]
    public void Key_of_53_bytes_is_accepted()
    {
        var userdata = new UserdataCollection();

        userdata.Add(new string('k', 53), "v");

        userdata.Should().ContainSingle();
    }

    [Fact]
    public void Key_of_54_bytes_is_rejected()
    {
        string key = new('k', 54);

        var error = Rejects(() => new UserdataCollection().Add(key, "v"));

        error.Input.Should().Be(key);
        error.Message.Should().Contain("at most 53 UTF-8 bytes");
    }

    [Fact]
    public void Key_length_is_counted_in_utf8_bytes()
    {
        string key = new string('k', 51) + "\u00e9"; // 52 characters, 53 bytes

        new UserdataCollection().Add(key, "v");
        Rejects(() => new UserdataCollection().Add(key + "k", "v")).Message.Should().Contain("has 54");
    }

    [Theory]
    [InlineData("")]
    [InlineData("a=b")]
    [InlineData("a/b")]
    [InlineData("a b")]
    [InlineData("a\tb")]
    [InlineData("a\nb")]
    [InlineData("a\u007fb")]
    public void Key_that_is_empty_or_holds_equals_slash_whitespace_or_control_characters_is_rejected(string key)
    {
        Rejects(() => new UserdataCollection().Add(key, "v")).Input.Should().Be(key);
    }

    [Fact]
    public void Value_of_199_bytes_is_accepted()
    {
        var userdata = new UserdataCollection { { "k", new string('v', 199) } };

        userdata["k"].Should().HaveLength(199);
    }

    [Fact]
    public void Value_of_200_bytes_is_rejected_because_the_kernel_keeps_values_under_200()
    {
        Rejects(() => new UserdataCollection().Add("k", new string('v', 200))).Message.Should().Contain("at most 199 UTF-8 bytes");
    }

    [Fact]
    public void Value_length_is_counted_in_utf8_bytes()
    {
        string value = new string('v', 197) + "\u00e9"; // 198 characters, 199 bytes

        new UserdataCollection().Add("k", value);
        Rejects(() => new UserdataCollection().Add("k", value + "v"));
    }

    [Theory]
    [InlineData("line\nbreak")]
    [InlineData("tab\there")]
    [InlineData("nul\0")]
    [InlineData("del\u007f")]
    public void Value_with_a_control_character_is_rejected(string value)
    {
        Rejects(() => new UserdataCollection().Add("k", value)).Message.Should().Contain("control characters");
    }

    [Fact]
    public void Value_may_hold_spaces_equals_and_non_ascii_text()
    {
        var userdata = new UserdataCollection { { "note", "a = b, caf\u00e9" } };

        userdata["note"].Should().Be("a = b, caf\u00e9");
    }

    [Fact]
    public void Text_with_an_unpaired_surrogate_is_rejected()
    {
        Rejects(() => new UserdataCollection().Add("k", "\ud800")).Message.Should().Contain("unpaired surrogate");
    }

    [Fact]
    public void Rejected_replacement_leaves_the_previous_value()
    {
        var userdata = new UserdataCollection { { "k", "old" } };

        Rejects(() => userdata["k"] = "bad\n");

        userdata["k"].Should().Be("old");
    }

    [Fact]
    public void Entries_256_are_accepted_and_the_257th_is_rejected_like_netcons_overflow()
    {
        var userdata = new UserdataCollection();
        for (int i = 0; i < 256; i++)
        {
            userdata.Add($"key{i}", string.Empty);
        }

        userdata.Should().HaveCount(UserdataCollection.MaxEntries);
        Rejects(() => userdata.Add("key256", string.Empty)).Message.Should().Contain("at most 256 userdata entries");
        userdata.Should().HaveCount(256);
    }

    [Fact]
    public void Replacing_a_value_is_allowed_when_the_collection_is_full()
    {
        var userdata = new UserdataCollection();
        for (int i = 0; i < 256; i++)
        {
            userdata.Add($"key{i}", string.Empty);
        }

        userdata["key0"] = "v";

        userdata["key0"].Should().Be("v");
    }

    [Fact]
    public void Empty_value_is_allowed_and_formats_no_line()
    {
        var userdata = new UserdataCollection { { "omitted", string.Empty } };

        userdata.Should().ContainSingle();
        userdata.FormattedLength.Should().Be(0);
    }

    [Fact]
    public void FormattedLength_counts_a_space_key_equals_value_and_newline_per_entry()
    {
        var userdata = new UserdataCollection { { "a", "1" }, { "region", "caf\u00e9" }, { "empty", string.Empty } };

        // " a=1\n" is 5 bytes, " region=café\n" is 14.
        userdata.FormattedLength.Should().Be(5 + 14);

        userdata["a"] = "123";
        userdata.FormattedLength.Should().Be(7 + 14);

        userdata.Remove("region");
        userdata.FormattedLength.Should().Be(7);
    }

    [Fact]
    public void Lines_may_total_exactly_6144_bytes()
    {
        var userdata = FillTo(UserdataCollection.MaxTotalBytes);

        userdata.FormattedLength.Should().Be(6144);
    }

    [Fact]
    public void Entry_that_would_take_the_lines_past_6144_bytes_is_rejected()
    {
        var userdata = FillTo(UserdataCollection.MaxTotalBytes - 4);

        // " x=y\n" is 5 bytes: one too many.
        var error = Rejects(() => userdata.Add("x", "y"));

        error.Message.Should().Contain("6145").And.Contain("6144").And.Contain("8191");
        userdata.FormattedLength.Should().Be(6140);
        userdata.ContainsKey("x").Should().BeFalse();
    }

    [Fact]
    public void Growing_a_value_past_the_total_limit_is_rejected()
    {
        var userdata = FillTo(UserdataCollection.MaxTotalBytes);
        string first = userdata[0].Key;

        Rejects(() => userdata[first] = userdata[first] + "v");
    }

    [Fact]
    public void Emptying_a_value_frees_its_bytes_for_the_total()
    {
        var userdata = FillTo(UserdataCollection.MaxTotalBytes);
        string first = userdata[0].Key;

        userdata[first] = string.Empty;
        userdata.Add("x", "y");

        userdata.FormattedLength.Should().BeLessThanOrEqualTo(UserdataCollection.MaxTotalBytes);
    }

    // Fills with " kNNN=vvv...\n" lines of at most 210 bytes until exactly 'total' bytes.
    private static UserdataCollection FillTo(int total)
    {
        var userdata = new UserdataCollection();
        int i = 0;
        while (userdata.FormattedLength < total)
        {
            string key = $"k{i++:D3}";
            int room = total - userdata.FormattedLength - key.Length - 3;
            if (room < 1)
            {
                throw new InvalidOperationException("FillTo cannot reach the total exactly.");
            }

            userdata.Add(key, new string('v', Math.Min(room, UserdataCollection.MaxValueBytes)));
        }

        return userdata;
    }
}
