namespace Netconsole.Lab;

/// <summary>How a <see cref="NetworkLab"/> names, logs and places what it creates.</summary>
public sealed class NetworkLabOptions
{
    private string _namePrefix = NetworkLab.DefaultNamePrefix;
    private TimeSpan _commandTimeout = TimeSpan.FromSeconds(10);
    private TimeSpan _carrierTimeout = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The prefix of every name the lab gives a namespace or interface: 1 to 8 lowercase ASCII
    /// letters or digits, starting with a letter. A lab's id is the prefix followed by five
    /// random hex digits (for example <c>ncl1a2b3</c>); interface names stay under 16
    /// characters. <see cref="NetworkLab.CleanupStale"/> only ever removes names of this exact
    /// shape (and, for a router's receiver namespace, that shape followed by
    /// <see cref="NetworkLab.ReceiverNamespaceSuffix"/>). The default is <c>"ncl"</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The value is not of the shape above.</exception>
    public string NamePrefix
    {
        get => _namePrefix;
        set
        {
            ArgumentNullException.ThrowIfNull(value);
            if (value.Length is < 1 or > 8 || !char.IsAsciiLetterLower(value[0]) || !value.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c)))
            {
                throw new ArgumentException(
                    $"The name prefix '{value}' must be 1 to 8 lowercase ASCII letters or digits starting with a letter, "
                    + "so that interface names stay under 16 characters.",
                    nameof(value));
            }

            _namePrefix = value;
        }
    }

    /// <summary>
    /// Where the lab writes every <c>ip</c> command it runs (with its failure output), every
    /// namespace switch and every cleanup problem; null for no log. Dispose failures go to
    /// <see cref="System.Diagnostics.Debug"/> as well. The default is null.
    /// </summary>
    /// <remarks>Writes are serialized by the lab; the writer need not be thread-safe.</remarks>
    public TextWriter? Log { get; set; }

    /// <summary>
    /// Lets the lab create its device end in a network namespace that is not known to be
    /// private (the environment variable <c>NETCONSOLE_TEST_NETNS</c> is not <c>1</c>, or the
    /// process shares PID 1's network namespace). The lab still creates only its own veth pair
    /// and namespace, but the device end and its routes to 192.0.2.0/24 and 2001:db8::/64 then
    /// appear in that namespace, for example the host's. The default is false: run under
    /// <c>unshare -n</c> (as ./test.sh and ./demo.sh do) instead.
    /// </summary>
    public bool AllowHostNamespace { get; set; }

    /// <summary>
    /// Puts a router between the device end and a receiver. The peer namespace then forwards
    /// (IPv4 and IPv6) between the device link (192.0.2.0/24, 2001:db8::/64; the peer end,
    /// 192.0.2.2 / 2001:db8::2, is the router's interface there) and a second link to a third
    /// namespace, the receiver's, on 198.51.100.0/24 and 2001:db8:100::/64 (router
    /// 198.51.100.1 / 2001:db8:100::1, receiver 198.51.100.2 / 2001:db8:100::2). The current
    /// namespace gets routes to the receiver's networks via the router, on the device end; the
    /// receiver routes the device link's networks back via the router. See
    /// <see cref="NetworkLab.ReceiverNamespace"/>. The default is false: device and peer only.
    /// </summary>
    public bool Router { get; set; }

    /// <summary>
    /// How long one <c>ip</c> command may run before the lab kills it and fails, greater than
    /// zero. The default is 10 seconds.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public TimeSpan CommandTimeout
    {
        get => _commandTimeout;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _commandTimeout = value;
        }
    }

    /// <summary>
    /// How long the lab waits for both veth ends to be operationally up (carrier) after
    /// bringing them up, greater than zero. The default is 5 seconds.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The value is zero or negative.</exception>
    public TimeSpan CarrierTimeout
    {
        get => _carrierTimeout;
        set
        {
            ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(value, TimeSpan.Zero);
            _carrierTimeout = value;
        }
    }

    internal NetworkLabOptions Clone() => (NetworkLabOptions)MemberwiseClone();
}
