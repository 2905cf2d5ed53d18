// netconsole-demo: ILogger -> netconsole on lo, automatic recovery of a target whose interface
// loses its carrier or disappears and then returns, crash reporting from a child process, and
// the last words of a child killed with SIGKILL (CaptureProcessDeath).
// Run it through ./demo.sh, which runs it as root inside a private network namespace (unshare -n).
using Netconsole.Demo;

return await DemoRunner.RunAsync(Console.Out);
