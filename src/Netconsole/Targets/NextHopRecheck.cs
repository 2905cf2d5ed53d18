using Netconsole.Resolution;

namespace Netconsole.Targets;

/// <summary>How next hops are resolved and re-checked (the manager's settings).</summary>
/// <param name="Resolver">The resolver; null for the default (the neighbour table, then ARP / NDP when the transport can receive frames).</param>
/// <param name="IntervalTicks">Re-check a resolved MAC when its last check is older than this (timestamp ticks); 0 never.</param>
/// <param name="ErrorSpacingTicks">At most one re-check caused by transmit errors per this many ticks.</param>
internal sealed record NextHopPolicy(NextHopResolver? Resolver, long IntervalTicks, long ErrorSpacingTicks);

/// <summary>How a session re-checks its resolved next hop: the query, the resolver and when.</summary>
/// <param name="Query">What the MAC was resolved from.</param>
/// <param name="Resolver">The resolver (the default asks the neighbour table and the next hop).</param>
/// <param name="Policy">When to re-check (the manager's settings).</param>
internal sealed record NextHopRecheck(NextHopQuery Query, NextHopResolver Resolver, NextHopPolicy Policy);
