using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;

namespace Joinery.Tests.Support;

/// <summary>
/// The in-memory test server gives every request the same (no) remote address. With this filter a test names the
/// client's address in <see cref="Header"/>, as if the request came from there; nothing else changes.
/// </summary>
public sealed class TestClientAddress : IStartupFilter
{
    public const string Header = "X-Test-Client-Address";

    public Action<IApplicationBuilder> Configure(Action<IApplicationBuilder> next) => app =>
    {
        app.Use(async (context, nextMiddleware) =>
        {
            if (IPAddress.TryParse(context.Request.Headers[Header].ToString(), out var address))
                context.Connection.RemoteIpAddress = address;
            await nextMiddleware(context);
        });
        next(app);
    };

    public static HttpRequestMessage Post(string path, object body, string clientAddress)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = System.Net.Http.Json.JsonContent.Create(body) };
        request.Headers.Add(Header, clientAddress);
        return request;
    }
}
