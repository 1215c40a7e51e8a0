using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace Joinery.Gateway.Abuse;

/// <summary>
/// How many signups <c>POST /api/signups</c> takes from one IP address and for one email address, each in a fixed
/// window. A limit of 0 turns that limit off. The defaults are generous: a whole meetup behind one NAT can sign up
/// at once, a script cannot fill the CRM.
/// </summary>
public sealed class SignupRateLimitOptions
{
    public const string Section = "RateLimiting";

    /// <summary>Signups one IP address may post per <see cref="PerIpWindow"/> (valid or not); 0 = unlimited.</summary>
    public int PerIpLimit { get; set; } = 60;

    public TimeSpan PerIpWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Valid signups for one (normalized) email per <see cref="PerEmailWindow"/>; 0 = unlimited.</summary>
    public int PerEmailLimit { get; set; } = 10;

    public TimeSpan PerEmailWindow { get; set; } = TimeSpan.FromHours(1);
}

public static class SignupRateLimiting
{
    /// <summary>The rate-limiter policy on <c>POST /api/signups</c>: one partition per client IP address.</summary>
    public const string PerIpPolicy = "signups-per-ip";

    public static IHostApplicationBuilder AddSignupRateLimiting(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SignupRateLimitOptions>().BindConfiguration(SignupRateLimitOptions.Section);
        builder.Services.AddSingleton<EmailRateLimiter>();
        builder.Services.AddSingleton(VisitorAddress.From(builder.Configuration)); // partitions keyed by a salted hash, never the IP
        builder.Services.AddRateLimiter(limiter =>
        {
            limiter.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
            // One partition per client, keyed by the salted hash of its IP address: the limiter never holds an address.
            limiter.AddPolicy(PerIpPolicy, context =>
            {
                var options = context.RequestServices.GetRequiredService<IOptions<SignupRateLimitOptions>>().Value;
                return FixedWindow(VisitorAddress.PartitionKeyOf(context), options.PerIpLimit, options.PerIpWindow);
            });
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                rejected.HttpContext.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(SignupRateLimiting))
                    .LogInformation("Refused a signup: too many from client {ClientHash}", VisitorAddress.PartitionKeyOf(rejected.HttpContext));
                await TooManyRequests(RetryAfter(rejected.Lease), "Too many signups from your network. Please try again later.")
                    .ExecuteAsync(rejected.HttpContext);
            };
        });
        return builder;
    }

    /// <summary>One fixed window of <paramref name="limit"/> permits per key, no queue; a limit of 0 (or less) turns it off.</summary>
    public static RateLimitPartition<string> FixedWindow(string key, int limit, TimeSpan window) => limit <= 0
        ? RateLimitPartition.GetNoLimiter(key)
        : RateLimitPartition.GetFixedWindowLimiter(key, _ => new FixedWindowRateLimiterOptions
        {
            PermitLimit = limit,
            Window = window,
            QueueLimit = 0,
            AutoReplenishment = true,
        });

    /// <summary>How long a refused lease says to wait; a minute when it does not say.</summary>
    public static TimeSpan RetryAfter(RateLimitLease lease) =>
        lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromMinutes(1);

    /// <summary>429 as application/problem+json, with <c>Retry-After</c> in whole seconds (at least 1).</summary>
    public static IResult TooManyRequests(TimeSpan? retryAfter, string detail) => new RetryAfterResult(
        retryAfter ?? TimeSpan.FromMinutes(1),
        TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests", detail: detail));

    /// <summary>A problem answer with a <c>Retry-After</c> header (429, or 503 when something we call is unreachable).</summary>
    public sealed class RetryAfterResult(TimeSpan retryAfter, IResult inner) : IResult
    {
        public TimeSpan RetryAfter { get; } = retryAfter;

        public Task ExecuteAsync(HttpContext httpContext)
        {
            var seconds = Math.Max(1, (long)Math.Ceiling(RetryAfter.TotalSeconds));
            httpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }
}

/// <summary>
/// The per-email limit. It needs the parsed body, which the rate-limiting middleware never sees, so the endpoint asks
/// it once the signup is valid. One fixed window per normalized email, kept in memory (per gateway process).
/// </summary>
public sealed class EmailRateLimiter : IDisposable
{
    readonly PartitionedRateLimiter<string> _limiter;

    public EmailRateLimiter(IOptions<SignupRateLimitOptions> options)
    {
        var settings = options.Value;
        _limiter = PartitionedRateLimiter.Create<string, string>(
            email => SignupRateLimiting.FixedWindow(email, settings.PerEmailLimit, settings.PerEmailWindow), StringComparer.Ordinal);
    }

    /// <summary>Null when the signup may go on; else how long until this email may try again.</summary>
    public TimeSpan? TryAcquire(string normalizedEmail)
    {
        using var lease = _limiter.AttemptAcquire(normalizedEmail);
        return lease.IsAcquired ? null : SignupRateLimiting.RetryAfter(lease);
    }

    public void Dispose() => _limiter.Dispose();
}
