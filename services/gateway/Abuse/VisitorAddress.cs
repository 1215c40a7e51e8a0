using System.Security.Cryptography;
using System.Text;

namespace Joinery.Gateway.Abuse;

/// <summary>
/// The visitor's IP address, as the gateway sees it (the connection's remote address), and the only form in which
/// the gateway keeps or logs it: a keyed hash (HMAC-SHA256 with a secret salt), so that the rate limiter's partitions
/// and the log lines can tell visitors apart without holding their addresses.
/// </summary>
public sealed class VisitorAddress
{
    /// <summary>The salt; without it each process draws a random one (fine: the limits are per process anyway).</summary>
    public const string SaltKey = "RateLimiting:AddressSalt";

    readonly byte[] _salt;

    public VisitorAddress(string? salt) =>
        _salt = string.IsNullOrEmpty(salt) ? RandomNumberGenerator.GetBytes(32) : Encoding.UTF8.GetBytes(salt);

    public static VisitorAddress From(IConfiguration configuration) => new(configuration[SaltKey]);

    /// <summary>
    /// The key a visitor's requests are counted and logged under: 16 bytes of HMAC-SHA256(salt, address), hex. Without
    /// the salt it cannot be tried against the few billion IPv4 addresses. "unknown" when the connection has no IP
    /// address (in-process tests).
    /// </summary>
    public string PartitionKey(HttpContext context) =>
        context.Connection.RemoteIpAddress is { } address ? Hash(address.ToString()) : "unknown";

    public string Hash(string address) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(_salt, Encoding.UTF8.GetBytes(address)).AsSpan(0, 16));

    /// <summary>The registered instance (one per process, so one salt).</summary>
    public static string PartitionKeyOf(HttpContext context) =>
        context.RequestServices.GetRequiredService<VisitorAddress>().PartitionKey(context);
}
