using BenchmarkDotNet.Running;

// dotnet run -c Release --project bench/Netconsole.Benchmarks -- --filter '*'
BenchmarkSwitcher.FromAssembly(typeof(Netconsole.Benchmarks.FormatAndFrameBenchmarks).Assembly).Run(args);
