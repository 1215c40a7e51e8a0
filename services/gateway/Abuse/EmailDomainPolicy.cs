namespace Joinery.Gateway.Abuse;

/// <summary>
/// Which email domains may sign up. <c>Signup:AllowedEmailDomains</c>: when set, only these; <c>Signup:DeniedEmailDomains</c>:
/// never these; <c>Signup:BlockDisposableEmail</c> (true by default): never the throwaway-inbox providers of
/// <c>disposable-domains.txt</c>. Lists are comma-separated (or configuration arrays). A listed domain covers its
/// subdomains (<c>example.org</c> covers <c>mail.example.org</c>), compared case-insensitively on the normalized address.
/// </summary>
public sealed class EmailDomainPolicy
{
    public const string AllowedKey = "Signup:AllowedEmailDomains";
    public const string DeniedKey = "Signup:DeniedEmailDomains";
    public const string BlockDisposableKey = "Signup:BlockDisposableEmail";

    public const string NotAcceptedMessage = "This email domain is not accepted.";
    public const string DisposableMessage = "Disposable email addresses are not accepted.";

    readonly HashSet<string> _allowed;
    readonly HashSet<string> _denied;
    readonly HashSet<string> _disposable;

    public EmailDomainPolicy(IEnumerable<string> allowed, IEnumerable<string> denied, bool blockDisposable)
    {
        _allowed = Set(allowed);
        _denied = Set(denied);
        _disposable = blockDisposable ? Set(DisposableDomains()) : [];
    }

    public static EmailDomainPolicy From(IConfiguration configuration) => new(
        List(configuration[AllowedKey], configuration.GetSection(AllowedKey)),
        List(configuration[DeniedKey], configuration.GetSection(DeniedKey)),
        configuration.GetValue<bool?>(BlockDisposableKey) ?? true);

    /// <summary>Null when the address's domain may sign up, else the (English) reason for the <c>email</c> field.</summary>
    public string? Refusal(string normalizedEmail)
    {
        var domain = normalizedEmail[(normalizedEmail.LastIndexOf('@') + 1)..].TrimEnd('.').ToLowerInvariant();
        if (_allowed.Count > 0 && !Covers(_allowed, domain))
            return NotAcceptedMessage;
        if (Covers(_denied, domain))
            return NotAcceptedMessage;
        // An explicitly allowed domain is never refused as disposable: the operator asked for it.
        if (Covers(_disposable, domain) && !(_allowed.Count > 0 && Covers(_allowed, domain)))
            return DisposableMessage;
        return null;
    }

    /// <summary>True when the domain or one of its parent domains is in the set: a.b.example.org, b.example.org, example.org.</summary>
    static bool Covers(HashSet<string> domains, string domain)
    {
        if (domains.Count == 0)
            return false;
        for (var candidate = domain; ; candidate = candidate[(candidate.IndexOf('.') + 1)..])
        {
            if (domains.Contains(candidate))
                return true;
            if (!candidate.Contains('.'))
                return false;
        }
    }

    static HashSet<string> Set(IEnumerable<string> domains) => new(
        domains.Select(d => d.Trim().TrimStart('@').TrimEnd('.').ToLowerInvariant()).Where(d => d.Length > 0),
        StringComparer.Ordinal);

    /// <summary>A comma/semicolon/space-separated value, or a configuration array (Signup:DeniedEmailDomains:0, :1...).</summary>
    static IEnumerable<string> List(string? value, IConfigurationSection section) =>
        (value ?? "").Split([',', ';', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries)
            .Concat(section.GetChildren().Select(c => c.Value ?? ""));

    /// <summary>The embedded list, one domain a line, # for comments.</summary>
    public static IEnumerable<string> DisposableDomains() =>
        Page.PageEndpoints.LoadText("Abuse.disposable-domains.txt").Split('\n')
            .Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'));
}
