using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace Joinery.Gateway.Abuse;

/// <summary>Wrong admin sign-ins allowed per client and username in each window, before the sign-in answers 429.</summary>
public sealed class AdminSignInLimitOptions
{
    public const string Section = "RateLimiting";

    /// <summary>Wrong passwords one client (by address hash) may try for one username per <see cref="AdminSignInWindow"/>.</summary>
    public int AdminSignInLimit { get; set; } = 5;

    public TimeSpan AdminSignInWindow { get; set; } = TimeSpan.FromMinutes(15);
}

/// <summary>
/// Slows password guessing at <c>/admin/login</c>: only wrong sign-ins count, one fixed window per (salted hash of the
/// client's address, username), in memory (per gateway process). Once spent, even the right password waits for the
/// window to end, so a guesser learns nothing from the answers.
/// </summary>
public sealed class AdminSignInLimiter : IDisposable
{
    readonly PartitionedRateLimiter<string> _limiter;
    readonly VisitorAddress _addresses;

    public AdminSignInLimiter(IOptions<AdminSignInLimitOptions> options, VisitorAddress addresses)
    {
        _addresses = addresses;
        var settings = options.Value;
        _limiter = PartitionedRateLimiter.Create<string, string>(
            key => SignupRateLimiting.FixedWindow(key, settings.AdminSignInLimit, settings.AdminSignInWindow), StringComparer.Ordinal);
    }

    /// <summary>Null while this client may still try this username; else how long until it may.</summary>
    public TimeSpan? Blocked(HttpContext context, string? username)
    {
        using var lease = _limiter.AttemptAcquire(Key(context, username), permitCount: 0);
        return lease.IsAcquired ? null : SignupRateLimiting.RetryAfter(lease);
    }

    /// <summary>Counts one wrong sign-in.</summary>
    public void Failed(HttpContext context, string? username)
    {
        using var lease = _limiter.AttemptAcquire(Key(context, username));
    }

    string Key(HttpContext context, string? username) =>
        _addresses.PartitionKey(context) + "|" + (username ?? "").Trim().ToLowerInvariant();

    public void Dispose() => _limiter.Dispose();
}

public static class AdminSignInLimitRegistration
{
    public static IHostApplicationBuilder AddAdminSignInLimit(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<AdminSignInLimitOptions>().BindConfiguration(AdminSignInLimitOptions.Section);
        builder.Services.AddSingleton<AdminSignInLimiter>();
        return builder;
    }
}
