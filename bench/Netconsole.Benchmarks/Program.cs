using BenchmarkDotNet.Running;
using Netconsole.Benchmarks;

// Micro-benchmarks:  dotnet run -c Release --project bench/Netconsole.Benchmarks -- --filter '*'
// Lab injection rate: bench/lab.sh lab-rate          (root; inside a private network namespace)
// Recovery latency:   bench/lab.sh recovery-latency  (root; likewise)
if (args.Length > 0 && args[0] == "lab-rate")
{
    return LabRate.Run(args[1..], Console.Out);
}

if (args.Length > 0 && args[0] == "recovery-latency")
{
    return RecoveryLatency.Run(args[1..], Console.Out);
}

BenchmarkSwitcher.FromAssembly(typeof(FormatAndFrameBenchmarks).Assembly).Run(args);
return 0;
