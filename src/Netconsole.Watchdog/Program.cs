// Netconsole.Watchdog SHARED-MEMORY-FILE PARENT-PID: started by Netconsole.Logging's provider
// (CaptureProcessDeath), never by hand. See Watchdog.cs.
return OperatingSystem.IsLinux() ? Netconsole.Watchdog.Watchdog.Run(args) : 2;
