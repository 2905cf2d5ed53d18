using Netconsole.Logging;

namespace Netconsole.Tests.Logging;

/// <summary>
/// A target object in Logging:Netconsole takes a signing key: its id and its secret in base64,
/// given inline, in a file, or in an environment variable (exactly one); every mistake is an error
/// naming the key, and no message ever shows the secret.
/// </summary>
public sealed class ConfigurationSigningKeyTests : IDisposable
{
    private const string Secret = "AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="; // 32 bytes, base64
    private readonly string _file = Path.GetTempFileName();

    public void Dispose() => File.Delete(_file);

    private static NetconsoleLoggerOptions Bind(string signingKey) =>
        ConfigurationTargetObjectTests.Bind($$"""{ "Targets": [ { "RemoteAddress": "192.0.2.2", "Extended": true, "SigningKey": {{signingKey}} } ] }""");

    [Fact]
    public void A_key_given_inline_in_a_file_or_in_an_environment_variable_signs_the_target()
    {
        File.WriteAllText(_file, Secret + "\n");
        string variable = "NETCONSOLE_TEST_KEY_" + Guid.NewGuid().ToString("N");
        Environment.SetEnvironmentVariable(variable, Secret);
        try
        {
            foreach (string source in new[] { $"\"Secret\": \"{Secret}\"", $"\"SecretFile\": \"{_file}\"", $"\"SecretEnvironmentVariable\": \"{variable}\"" })
            {
                NetconsoleLoggerOptions options = Bind($$"""{ "KeyId": "logs-2026", {{source}} }""");

                options.ConfigurationError.Should().BeNull(source);
                options.TargetOptions.Single().SigningKey!.KeyId.Should().Be("logs-2026");
            }
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Theory]
    [InlineData("\"k1\"", "Logging:Netconsole:Targets:0:SigningKey: the value is a single value")]
    [InlineData("{ \"Secret\": \"" + Secret + "\" }", "Logging:Netconsole:Targets:0:SigningKey: KeyId is missing")]
    [InlineData("{ \"KeyId\": \"k1\" }", "give exactly one of Secret, SecretFile and SecretEnvironmentVariable (0 given)")]
    [InlineData("{ \"KeyId\": \"k1\", \"Secret\": \"" + Secret + "\", \"SecretEnvironmentVariable\": \"X\" }", "(2 given)")]
    [InlineData("{ \"KeyId\": \"k1\", \"Secet\": \"x\" }", "Logging:Netconsole:Targets:0:SigningKey:Secet: not a signing key option")]
    [InlineData("{ \"KeyId\": \"k1\", \"Secret\": \"c2hvcnQ=\" }", "at least 32 bytes; this one has 5")]
    [InlineData("{ \"KeyId\": \"k 1\", \"Secret\": \"" + Secret + "\" }", "is not a usable signing key id")]
    [InlineData("{ \"KeyId\": \"k1\", \"SecretEnvironmentVariable\": \"NETCONSOLE_TEST_UNSET_VARIABLE\" }", "the environment variable NETCONSOLE_TEST_UNSET_VARIABLE is not set")]
    public void A_signing_key_that_cannot_be_used_is_an_error_naming_the_key_and_never_the_secret(string signingKey, string message)
    {
        NetconsoleLoggerOptions options = Bind(signingKey);

        options.ConfigurationError.Should().NotBeNull();
        options.ConfigurationError!.Message.Should().Contain(message).And.NotContain(Secret).And.NotContain("c2hvcnQ");
    }

    [Fact]
    public void A_secret_that_is_not_base64_is_refused_without_being_shown()
    {
        NetconsoleLoggerOptions options = Bind("""{ "KeyId": "k1", "Secret": "my password is hunter2, not base64" }""");

        options.ConfigurationError!.Message.Should().Contain("neither base64 nor base64url").And.NotContain("hunter2");
    }

    [Fact]
    public void Signing_a_basic_target_is_refused()
    {
        NetconsoleLoggerOptions options = ConfigurationTargetObjectTests.Bind($$"""{ "Targets": [ { "RemoteAddress": "192.0.2.2", "SigningKey": { "KeyId": "k1", "Secret": "{{Secret}}" } } ] }""");

        options.ConfigurationError!.Message.Should().Contain("signing needs the extended format");
    }
}
