// The ILoggerProvider lands with the logging issue; this package is a skeleton until then.
[assembly: System.CLSCompliant(false)]
