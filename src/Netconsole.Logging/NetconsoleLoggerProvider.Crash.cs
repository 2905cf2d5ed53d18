using System.Diagnostics;
using Microsoft.Extensions.Logging;

namespace Netconsole.Logging;

/// <summary>Synchronous sending (<see cref="SendNow"/>) and crash reporting.</summary>
public sealed partial class NetconsoleLoggerProvider
{
    internal const string CrashCategory = "Netconsole.Crash";
    internal const int EmergencyLevel = 0;

    private readonly object _crashSubscriptionLock = new();
    private bool _crashSubscribed;

    /// <summary>
    /// Sends one record now, on the calling thread, bypassing the queue: for crash handlers and
    /// last words. Waits (at most <see cref="NetconsoleLoggerOptions.CrashFlushTimeout"/>) for a
    /// send in progress on the sender thread so the two never interleave (past that limit the
    /// record is not sent and counted in <see cref="NetconsoleLoggerStatistics.Failures"/>); call
    /// <see cref="Flush"/> first to send what is queued before it. Never throws; does nothing once disposed.
    /// </summary>
    /// <param name="level">The level (mapped as for logged records).</param>
    /// <param name="message">The text.</param>
    /// <param name="exception">An exception to append to the text, or <see langword="null"/>.</param>
    /// <param name="category">The <c>CATEGORY=</c> of extended targets; <see langword="null"/> for <c>Netconsole.Logging</c>.</param>
    public void SendNow(LogLevel level, string message, Exception? exception = null, string? category = null)
    {
        if (level == LogLevel.None)
        {
            return;
        }

        SendNowCore(NetconsoleLogger.ToSyslogLevel(level), message, exception, category, _options.CrashFlushTimeout);
    }

    internal void SendNowCore(int syslogLevel, string? message, object? exception, string? category, TimeSpan lockTimeout)
    {
        try
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return;
            }

            ulong timestamp = NetconsoleRecord.GetTimestampMicroseconds();
            bool locked = false;
            try
            {
                Monitor.TryEnter(_sendLock, lockTimeout, ref locked);
                if (!locked)
                {
                    // The sender is stuck in a send past the time limit; sending alongside it
                    // would share its buffers and break the order. Give up, counted.
                    Interlocked.Increment(ref _failures);
                    return;
                }

                long notice = _queue.TakeDrops();
                if (notice > 0)
                {
                    SendNotice(notice);
                    Interlocked.Add(ref _progress.Announced, notice);
                }

                ClearPairs();
                if (WantsDictionary)
                {
                    AddHeaderPairs(category ?? ProviderCategory, default);
                }

                SendText(syslogLevel, message ?? string.Empty, exception, timestamp, null, null);
                Interlocked.Increment(ref _progress.Sent);
            }
            finally
            {
                if (locked)
                {
                    Monitor.Exit(_sendLock);
                }
            }
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _failures);
        }
    }

    /// <summary>Drains the queue, then sends the crash record, all within <see cref="NetconsoleLoggerOptions.CrashFlushTimeout"/>.</summary>
    internal void ReportCrash(int syslogLevel, string message, object? exception)
    {
        try
        {
            TimeSpan budget = _options.CrashFlushTimeout;
            long start = Stopwatch.GetTimestamp();
            Flush(budget);
            TimeSpan left = budget - Stopwatch.GetElapsedTime(start);
            SendNowCore(syslogLevel, message, exception, CrashCategory, left > TimeSpan.Zero ? left : TimeSpan.Zero);
        }
        catch (Exception)
        {
            Interlocked.Increment(ref _failures);
        }
    }

    private void UpdateCrashSubscription(bool subscribe)
    {
        lock (_crashSubscriptionLock)
        {
            if (subscribe == _crashSubscribed || (subscribe && Volatile.Read(ref _disposed) != 0))
            {
                return;
            }

            if (subscribe)
            {
                AppDomain.CurrentDomain.UnhandledException += OnUnhandledException;
                TaskScheduler.UnobservedTaskException += OnUnobservedTaskException;
            }
            else
            {
                AppDomain.CurrentDomain.UnhandledException -= OnUnhandledException;
                TaskScheduler.UnobservedTaskException -= OnUnobservedTaskException;
            }

            _crashSubscribed = subscribe;
        }
    }

    private void OnUnhandledException(object? sender, UnhandledExceptionEventArgs e) =>
        ReportCrash(
            EmergencyLevel,
            e.IsTerminating ? "Unhandled exception: the process is terminating" : "Unhandled exception",
            e.ExceptionObject);

    // Reported, not observed: the application's own policy for unobserved exceptions stays as it is.
    private void OnUnobservedTaskException(object? sender, UnobservedTaskExceptionEventArgs e) =>
        ReportCrash(3, "Unobserved task exception", e.Exception);
}
