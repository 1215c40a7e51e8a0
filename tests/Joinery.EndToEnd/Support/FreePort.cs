using System.Net;
using System.Net.Sockets;

namespace Joinery.EndToEnd.Support;

public static class FreePort
{
    /// <summary>A loopback port nothing listens on right now (the system picks it; it may be taken again later, rarely).</summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
