namespace Netconsole.Tests.Support;

/// <summary>netconsole-test-app (tests/Netconsole.TestApp), the child process of the provider's process tests.</summary>
internal static class TestAppChild
{
    /// <summary>What its lab tests need (root, libpcap, a private namespace), then the path of its dll in the test output.</summary>
    public static string RequireLab()
    {
        Requires.LinuxRoot();
        Requires.Libpcap();
        Requires.PrivateNetworkNamespace();
        string dll = Path.Combine(AppContext.BaseDirectory, "netconsole-test-app.dll");
        File.Exists(dll).Should().BeTrue("the test project references the test app, so its dll is in the test output");
        return dll;
    }
}
