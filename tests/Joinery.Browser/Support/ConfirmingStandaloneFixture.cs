namespace Joinery.Browser.Support;

[CollectionDefinition(Name)]
public sealed class ConfirmingStandaloneCollection : ICollectionFixture<ConfirmingStandaloneFixture>
{
    public const string Name = "standalone with email confirmation in a browser";
}

/// <summary>
/// The standalone host as <see cref="StandaloneFixture"/> starts it, with double opt-in on: the confirmation mail goes
/// over SMTP to the fake APIs' sink, and its link points at this host.
/// </summary>
public sealed class ConfirmingStandaloneFixture : StandaloneFixture
{
    protected override void Configure(Dictionary<string, string> settings)
    {
        settings["Signup__ConfirmEmail"] = "true";
        settings["Signup__PublicBaseUrl"] = BaseUrl.ToString();
        settings["Smtp__Host"] = "127.0.0.1";
        settings["Smtp__Port"] = Fake.SmtpPort.ToString();
        settings["Smtp__Security"] = "None";
        settings["Smtp__From"] = "Joinery <joinery@example.org>";
    }

    protected override string LogName => "browser-standalone-confirming.log";
}
