#!/usr/bin/env bash
# Runs a lab measurement of bench/Netconsole.Benchmarks inside a private network namespace
# (unshare -n), so it cannot touch any real network. Needs root.
#   bench/lab.sh lab-rate [RECORDS] [ROUNDS]     libpcap injection vs a plain UDP socket, same run
#   bench/lab.sh recovery-latency [TRIES]        interface re-created -> target Enabled, both watchers
#   bench/lab.sh carrier-latency [TRIES]         veth peer down/up (carrier lost, back) and device deleted/re-created ->
#                                                first record received, next to an OS UDP socket; both watchers
#   bench/lab.sh resolution-latency [TRIES]      Enable with the neighbour table / ARP / NDP / nothing answering, re-check
#   bench/lab.sh e2e [RECORDS] [ROUNDS]          end-to-end harness (issue 7): ILogger -> veth -> receiver next to
#                                                libpcap, AF_PACKET, UDP socket and NLog; writes bench/e2e-latest.md
#   bench/lab.sh flood [cpu [DATAGRAMS] | lab [SCALE]]  hostile traffic (issue 16): CPU per 64 KiB datagram of short
#                                                lines vs plain text; spoofed floods vs NetconsoleReceiver and
#                                                netconsole-listen: peak memory, the legitimate sender's share
#   bench/lab.sh receive [RECORDS] [ROUNDS] [one-core|scaling]
#                                                receive throughput against netconsd (issue 16): NetconsoleReceiver,
#                                                netconsole-listen and netconsd on the same datagram stream on loopback;
#                                                BEFORE=<commit> adds that commit's NetconsoleReceiver as a row
#   bench/lab.sh kernel-paths [FRAMES] [ROUNDS]  issue 19's kernel paths alone, no libpcap tap in the namespace: send(),
#                                                sendmmsg() with and without PACKET_QDISC_BYPASS, PACKET_TX_RING with and
#                                                without it; NETCONSOLE_BENCH_QDISC='pfifo_fast' (also for e2e) puts a root
#                                                qdisc on the veth; writes bench/kernel-paths-latest.md
#   bench/lab.sh lone [SAMPLES [PAUSES_MS,... [TRANSPORTS]]]
#                                                lone-record latency (issue 19): one record at a time through the provider,
#                                                after a pause (default 20,150 ms), logging call -> datagram at the peer's
#                                                socket (SO_TIMESTAMPNS); both transports (libpcap,packet-socket) by default;
#                                                writes bench/lone-latest.md
#   bench/lab.sh abuse [SECONDS_LOGGING [SECONDS_STORM [TARGETS]]]
#                                                the sender side abused (issue 20): 8 threads logging in both queue modes,
#                                                disposal while logging and while a device open blocks, a configuration
#                                                and device-event storm, 10,000 targets; every count must add up
#   bench/lab.sh death-latency [RUNS]            CaptureProcessDeath (issue 21): a child dying by SIGKILL, stack overflow,
#                                                SIGSEGV, FailFast, one at a time -> the death record's arrival;
#                                                the provider's start-up cost and the watchdog's memory
set -euo pipefail
cd "$(dirname "$0")/.."
case "${1:-}" in
  lab-rate|recovery-latency|carrier-latency|resolution-latency|e2e|flood|receive|abuse|lone|kernel-paths|death-latency) ;;
  *) echo "usage: bench/lab.sh lab-rate [RECORDS] [ROUNDS] | recovery-latency [TRIES] | carrier-latency [TRIES] | resolution-latency [TRIES] | e2e [RECORDS] [ROUNDS] | flood [cpu [DATAGRAMS] | lab [SCALE]] | receive [RECORDS] [ROUNDS] [one-core|scaling] | abuse [SECONDS_LOGGING [SECONDS_STORM [TARGETS]]] | lone [SAMPLES [PAUSES_MS,... [TRANSPORTS]]] | kernel-paths [FRAMES] [ROUNDS] | death-latency [RUNS]" >&2; exit 2 ;;
esac
if [ "$1" = flood ]; then
  dotnet build samples/Netconsole.Listen -c Release -nologo -v quiet >/dev/null # the floods run netconsole-listen too
fi
dotnet build bench/Netconsole.Benchmarks -c Release -nologo -v quiet >/dev/null
if [ "$1" = receive ]; then
  # netconsole-listen is measured too; the benchmark (orchestrator and sender) stays on CPU 0, receivers get CPU 1.
  dotnet build samples/Netconsole.Listen -c Release -nologo -v quiet >/dev/null
  if [ -n "${BEFORE:-}" ]; then
    before_dir=$(mktemp -d)
    trap 'rm -rf "$before_dir"' EXIT
    git archive "$BEFORE" | tar -x -C "$before_dir"
    dotnet build "$before_dir/src/Netconsole" -c Release -nologo -v quiet >/dev/null
    export NETCONSOLE_BEFORE_DLL="$before_dir/src/Netconsole/bin/Release/net10.0/Netconsole.dll"
    export NETCONSOLE_BEFORE_LABEL="$BEFORE, $(git rev-parse --short "$BEFORE")"
  fi
  env NETCONSOLE_TEST_NETNS=1 unshare -n taskset -c 0 bash -c 'ip link set lo up && exec dotnet bench/Netconsole.Benchmarks/bin/Release/net10.0/Netconsole.Benchmarks.dll "$@"' bash "$@"
  exit $?
fi
exec env NETCONSOLE_TEST_NETNS=1 unshare -n bash -c 'ip link set lo up && exec dotnet bench/Netconsole.Benchmarks/bin/Release/net10.0/Netconsole.Benchmarks.dll "$@"' bash "$@"
