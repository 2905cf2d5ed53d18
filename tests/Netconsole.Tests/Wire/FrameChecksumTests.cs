using CsCheck;
using Netconsole.Wire;

namespace Netconsole.Tests.Wire;

public class FrameChecksumTests
{
    [Fact]
    public void Fast_sum_equals_the_byte_by_byte_reference_for_any_data()
    {
        Gen.Byte.Array[0, 2000].Sample(data =>
        {
            ushort fast = Checksum.Fold(Checksum.Add(0, data));
            fast.Should().Be(FrameReference.OnesComplementSum(data));
        }, iter: 2000, threads: 1);
    }

    [Fact]
    public void Sum_split_at_an_even_offset_equals_the_sum_in_one_piece()
    {
        var gen = from data in Gen.Byte.Array[0, 300]
                  from half in Gen.Int[0, data.Length / 2]
                  select (data, split: half * 2);

        gen.Sample((data, split) =>
        {
            ulong pieces = Checksum.Add(Checksum.Add(0, data.AsSpan(0, split)), data.AsSpan(split));
            Checksum.Fold(pieces).Should().Be(Checksum.Fold(Checksum.Add(0, data)));
        }, iter: 1000, threads: 1);
    }

    [Fact]
    public void Word_added_alone_counts_as_its_big_endian_bytes()
    {
        ulong word = Checksum.Add(0, (ushort)0x1a09);

        Checksum.Fold(word).Should().Be(Checksum.Fold(Checksum.Add(0, [0x1a, 0x09])));
    }

    [Fact]
    public void All_ones_data_folds_to_ffff_not_0()
    {
        byte[] data = Enumerable.Repeat((byte)0xff, 1000).ToArray();

        Checksum.Fold(Checksum.Add(0, data)).Should().Be(0xffff);
        Checksum.Complement(Checksum.Add(0, data)).Should().Be(0);
    }
}
