namespace Netconsole.Netlink;

/// <summary>
/// The netlink message framing (netlink(7); include/uapi/linux/netlink.h): a 16-byte header,
/// type-length-value attributes, everything in host byte order and aligned to 4 bytes.
/// </summary>
internal static class NetlinkProtocol
{
    /// <summary>struct nlmsghdr: length (u32), type (u16), flags (u16), sequence (u32), port id (u32).</summary>
    public const int HeaderLength = 16;

    /// <summary>struct nlattr / struct rtattr: length (u16), type (u16).</summary>
    public const int AttributeHeaderLength = 4;

    /// <summary>NLMSG_ALIGNTO, NLA_ALIGNTO.</summary>
    public const int Alignment = 4;

    /// <summary>NLMSG_NOOP.</summary>
    public const ushort TypeNoop = 1;

    /// <summary>NLMSG_ERROR: struct nlmsgerr, an error (negative errno) or an acknowledgement (0).</summary>
    public const ushort TypeError = 2;

    /// <summary>NLMSG_DONE: the end of a dump.</summary>
    public const ushort TypeDone = 3;

    /// <summary>NLM_F_REQUEST.</summary>
    public const ushort FlagRequest = 0x1;

    /// <summary>NLM_F_MULTI: one part of a multipart answer.</summary>
    public const ushort FlagMulti = 0x2;

    /// <summary>NLM_F_DUMP_INTR: the table changed while it was dumped; the dump may be inconsistent.</summary>
    public const ushort FlagDumpInterrupted = 0x10;

    /// <summary>NLM_F_DUMP (NLM_F_ROOT | NLM_F_MATCH).</summary>
    public const ushort FlagDump = 0x300;

    /// <summary>An attribute's type without NLA_F_NESTED and NLA_F_NET_BYTEORDER.</summary>
    public const ushort AttributeTypeMask = 0x3FFF;

    /// <summary>A length rounded up to the alignment.</summary>
    public static int Align(int length) => (length + Alignment - 1) & ~(Alignment - 1);
}
