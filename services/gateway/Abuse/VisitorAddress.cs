namespace Joinery.Gateway.Abuse;

/// <summary>The visitor's IP address, as the gateway sees it (the connection's remote address).</summary>
public static class VisitorAddress
{
    /// <summary>The key a visitor's requests are counted under; "unknown" when the connection has no IP address (in-process tests).</summary>
    public static string PartitionKey(HttpContext context) => context.Connection.RemoteIpAddress?.ToString() ?? "unknown";
}
