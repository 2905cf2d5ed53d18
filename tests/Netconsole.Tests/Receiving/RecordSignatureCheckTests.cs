using System.Text;
using Netconsole.Receiving;
using Netconsole.Wire;

namespace Netconsole.Tests.Receiving;

/// <summary>
/// A receiver's check of a record's signature line, on what this library's formatter sends: a
/// record verifies with its key; a changed byte anywhere makes it Invalid; an unknown key id is
/// UnknownKey; a record without the line is Unsigned; two keys in a keyring both verify (rotation).
/// </summary>
public class RecordSignatureCheckTests
{
    private static readonly RecordSigningKey Current = new("current", Enumerable.Repeat((byte)7, 32).ToArray());
    private static readonly RecordSigningKey Previous = new("previous", Enumerable.Repeat((byte)9, 32).ToArray());

    private static Dictionary<string, RecordSigningKey> Keyring(params RecordSigningKey[] keys) =>
        keys.ToDictionary(k => k.KeyId, StringComparer.Ordinal);

    // One datagram, as the formatter sends it, with release prefix and sysdata so they are covered too.
    private static byte[] Signed(RecordSigningKey key, string text = "disk OK")
    {
        var formatter = new RecordFormatter(new RecordFormat { Extended = true, SigningKey = key, PrependRelease = true, Release = "6.4.0", Sysdata = SysdataFields.MessageId });
        var datagrams = new List<byte[]>();
        foreach (ReadOnlySpan<byte> datagram in formatter.Format(NetconsoleRecord.FromString(6, text) with { Sequence = 42, TimestampMicroseconds = 1000, Dictionary = [new("SUBSYSTEM", "block")] }))
        {
            datagrams.Add(datagram.ToArray());
        }

        return datagrams.Single();
    }

    private static SignatureCheck Check(byte[] datagram, IReadOnlyDictionary<string, RecordSigningKey> keyring)
    {
        ParsedDatagram parsed = DatagramParser.Parse(datagram);
        return RecordSignatureCheck.Check(parsed.SignedHeader, parsed.Data, keyring);
    }

    [Fact]
    public void A_record_signed_with_a_key_of_the_keyring_verifies()
    {
        SignatureCheck check = Check(Signed(Current), Keyring(Current));

        check.Status.Should().Be(RecordSignature.Verified);
        check.KeyId.Should().Be("current");
        check.Run.Should().HaveLength(11);
    }

    [Fact]
    public void A_changed_byte_anywhere_makes_the_record_invalid()
    {
        byte[] original = Signed(Current);
        int macStart = Encoding.ASCII.GetString(original).LastIndexOf(':') + 1;
        var outcomes = new List<RecordSignature>();
        for (int at = 0; at < macStart; at++)
        {
            byte[] changed = (byte[])original.Clone();
            changed[at] = changed[at] == (byte)'0' ? (byte)'1' : (byte)'0';
            outcomes.Add(Check(changed, Keyring(Current)).Status);
        }

        outcomes.Should().NotContain(RecordSignature.Verified, "every byte before the MAC (release, header, text, dictionary, sysdata, key id, run) is covered");
        byte[] badMac = (byte[])original.Clone();
        badMac[macStart + 5] ^= 1;
        Check(badMac, Keyring(Current)).Status.Should().Be(RecordSignature.Invalid);
    }

    [Fact]
    public void A_fragmented_record_verifies_once_its_fragments_are_put_together_under_the_header_without_ncfrag()
    {
        var formatter = new RecordFormatter(new RecordFormat { Extended = true, SigningKey = Current });
        byte[]? data = null;
        byte[]? header = null;
        int fragments = 0;
        foreach (ReadOnlySpan<byte> datagram in formatter.Format(NetconsoleRecord.FromString(6, new string('z', 2500)) with { Sequence = 3, TimestampMicroseconds = 4 }))
        {
            ParsedDatagram parsed = DatagramParser.Parse(datagram);
            parsed.IsFragment.Should().BeTrue();
            data ??= new byte[parsed.FragmentTotal];
            header ??= parsed.SignedHeader.ToArray();
            parsed.Data.CopyTo(data.AsSpan(parsed.FragmentOffset));
            fragments++;
        }

        fragments.Should().Be(3);
        Encoding.ASCII.GetString(header!).Should().Be("14,3,4,-");
        RecordSignatureCheck.Check(header, data, Keyring(Current)).Status.Should().Be(RecordSignature.Verified);
    }

    [Fact]
    public void With_two_keys_in_the_keyring_records_of_either_verify_so_keys_can_be_rotated()
    {
        Dictionary<string, RecordSigningKey> both = Keyring(Current, Previous);

        Check(Signed(Current), both).Status.Should().Be(RecordSignature.Verified);
        Check(Signed(Previous), both).Status.Should().Be(RecordSignature.Verified);
    }

    [Fact]
    public void A_key_id_the_keyring_does_not_hold_is_UnknownKey_and_no_line_is_Unsigned()
    {
        SignatureCheck unknown = Check(Signed(Previous), Keyring(Current));
        (unknown.Status, unknown.KeyId).Should().Be((RecordSignature.UnknownKey, "previous"));
        Check(Encoding.ASCII.GetBytes("6,1,1,-;plain\n SUBSYSTEM=block\n"), Keyring(Current)).Status.Should().Be(RecordSignature.NotSigned);
    }

    [Fact]
    public void A_signature_line_with_the_wrong_shape_or_version_is_Invalid_not_Unsigned()
    {
        Check(Encoding.ASCII.GetBytes("6,1,1,-;x\n ncsig=v2:current:AAAAAAAAAAA:mac\n"), Keyring(Current)).Status.Should().Be(RecordSignature.Invalid);
        Check(Encoding.ASCII.GetBytes("6,1,1,-;x\n ncsig=v1:current:short:mac\n"), Keyring(Current)).Status.Should().Be(RecordSignature.Invalid);
        Check(Encoding.ASCII.GetBytes("6,1,1,-;x\n ncsig=v1:current:AAAAAAAAAAA:" + new string('A', 43) + "\n"), Keyring(Current)).Status.Should().Be(RecordSignature.Invalid);
    }
}
