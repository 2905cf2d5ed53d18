using Microsoft.Extensions.Logging;

namespace Netconsole.Demo;

/// <summary>
/// The demo's log messages, source-generated as Microsoft recommends for applications: the
/// template is parsed at build time and the values are not boxed when a level is off. The
/// provider takes these and plain <c>LogInformation(...)</c> calls alike.
/// </summary>
internal static partial class DemoLog
{
    private static readonly Func<ILogger, int, IDisposable?> Order = LoggerMessage.DefineScope<int>("order {OrderId}");

    /// <summary>A scope whose OrderId travels as a dictionary line of every record logged in it.</summary>
    public static IDisposable? OrderScope(ILogger logger, int orderId) => Order(logger, orderId);

    [LoggerMessage(Level = LogLevel.Information, Message = "shop {Shop} started")]
    public static partial void ShopStarted(ILogger logger, string shop);

    [LoggerMessage(Level = LogLevel.Warning, Message = "payment {PaymentId} declined for {Amount} EUR")]
    public static partial void PaymentDeclined(ILogger logger, string paymentId, double amount);

    [LoggerMessage(Level = LogLevel.Error, Message = "checkout of order {OrderId} failed")]
    public static partial void CheckoutFailed(ILogger logger, Exception exception, int orderId);

    [LoggerMessage(Level = LogLevel.Information, Message = "record {Index} of {Count} ({When})")]
    public static partial void Record(ILogger logger, int index, int count, string when);
}
