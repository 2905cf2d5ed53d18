using BenchmarkDotNet.Running;
using Netconsole.Benchmarks;
using Netconsole.Benchmarks.EndToEnd;
using Netconsole.Benchmarks.Receive;

// Micro-benchmarks:  dotnet run -c Release --project bench/Netconsole.Benchmarks -- --filter '*'
// Lab injection rate: bench/lab.sh lab-rate          (root; inside a private network namespace)
// Recovery latency:   bench/lab.sh recovery-latency  (root; likewise)
// Next-hop resolution: bench/lab.sh resolution-latency [TRIES] (root; likewise; issue 6)
// End-to-end harness: bench/lab.sh e2e [RECORDS] [ROUNDS] (root; likewise; issue 7)
// Carrier recovery:   bench/lab.sh carrier-latency [TRIES] (root; likewise; issue 15)
// Hostile traffic:    bench/lab.sh flood [cpu [DATAGRAMS] | lab [SCALE]] (root; likewise; issue 16)
// Receive throughput: bench/lab.sh receive [RECORDS] [ROUNDS] (root; likewise; against netconsd, issue 16)
// Kernel paths alone: bench/lab.sh kernel-paths [FRAMES] [ROUNDS] (root; likewise; issue 19)
// Lone-record latency: bench/lab.sh lone [SAMPLES [PAUSES_MS,... [TRANSPORTS]]] (root; likewise; issue 19)
// Sender abuse:       bench/lab.sh abuse [SECONDS_LOGGING [SECONDS_STORM [TARGETS]]] (root; likewise; issue 20)
// Process death:      bench/lab.sh death-latency [RUNS] (root; likewise; issue 21)
// Its logging cost:   dotnet bench/Netconsole.Benchmarks/bin/Release/net10.0/Netconsole.Benchmarks.dll death-cost [BATCHES] (issue 21)
if (args.Length > 0 && args[0] == "lab-rate")
{
    return LabRate.Run(args[1..], Console.Out);
}

if (args.Length > 0 && args[0] == "recovery-latency")
{
    return RecoveryLatency.Run(args[1..], Console.Out);
}

if (args.Length > 0 && args[0] == "carrier-latency")
{
    return OperatingSystem.IsLinux()
        ? CarrierLatency.Run(args[1..], Console.Out)
        : throw new PlatformNotSupportedException("The network lab and the rtnetlink watcher exist only on Linux.");
}

if (args.Length > 0 && args[0] == "resolution-latency")
{
    return ResolutionLatency.Run(args[1..], Console.Out);
}

if (args.Length > 0 && args[0] == "receive")
{
    return ReceiveThroughput.Run(args[1..], Console.Out);
}

if (args.Length > 0 && args[0] == "receive-child")
{
    return await ReceiveChild.RunAsync(args[1..]);
}

if (args.Length > 0 && args[0] == "e2e")
{
    return OperatingSystem.IsLinux()
        ? EndToEndHarness.Run(args[1..], Console.Out)
        : throw new PlatformNotSupportedException("e2e runs in a Linux network namespace (bench/lab.sh e2e).");
}

if (args.Length > 0 && args[0] == "kernel-paths")
{
    return OperatingSystem.IsLinux()
        ? KernelPaths.Run(args[1..], Console.Out)
        : throw new PlatformNotSupportedException("kernel-paths runs in a Linux network namespace (bench/lab.sh kernel-paths).");
}

if (args.Length > 0 && args[0] == "lone")
{
    return OperatingSystem.IsLinux()
        ? LoneRecordLatency.Run(args[1..], Console.Out)
        : throw new PlatformNotSupportedException("lone runs in a Linux network namespace (bench/lab.sh lone).");
}

if (args.Length > 0 && args[0] == "death-cost")
{
    return ProcessDeathCost.Run(args[1..], Console.Out);
}

if (args.Length > 0 && args[0] == "death-latency")
{
    return DeathLatency.Run(args[1..], Console.Out);
}

if (args.Length > 0 && args[0] == "abuse")
{
    return AbuseFigures.Run(args[1..], Console.Out);
}

if (args.Length > 0 && args[0] == "flood")
{
    return OperatingSystem.IsLinux()
        ? FloodFigures.Run(args[1..], Console.Out)
        : throw new PlatformNotSupportedException("The network lab exists only on Linux.");
}

BenchmarkSwitcher.FromAssembly(typeof(FormatAndFrameBenchmarks).Assembly).Run(args);
return 0;
