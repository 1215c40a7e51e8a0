using System.Collections.Concurrent;
using System.Net;

namespace Joinery.EndToEnd.Observability;

/// <summary>
/// A small OTLP/HTTP (protobuf) receiver on 127.0.0.1: keeps every span POSTed to <c>/v1/traces</c>, and accepts metrics
/// and logs (<c>/v1/metrics</c>, <c>/v1/logs</c>) without keeping them, so the services' exporters never see an error.
/// </summary>
public sealed class OtlpReceiver : IAsyncDisposable
{
    readonly HttpListener _listener = new();
    readonly ConcurrentQueue<ReceivedSpan> _spans = new();
    readonly ConcurrentQueue<string> _errors = new();
    readonly CancellationTokenSource _stop = new();
    readonly Task _loop;

    public OtlpReceiver()
    {
        Port = Support.FreePort.Next();
        _listener.Prefixes.Add($"http://127.0.0.1:{Port}/");
        _listener.Start();
        _loop = Task.Run(Loop);
    }

    public int Port { get; }
    public string Endpoint => $"http://127.0.0.1:{Port}";

    public IReadOnlyList<ReceivedSpan> Spans => _spans.ToList();

    /// <summary>Requests the receiver could not decode; a test fails on any.</summary>
    public IReadOnlyList<string> Errors => _errors.ToList();

    async Task Loop()
    {
        while (!_stop.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await _listener.GetContextAsync();
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            catch (HttpListenerException)
            {
                return;
            }
            _ = Task.Run(() => Handle(context));
        }
    }

    async Task Handle(HttpListenerContext context)
    {
        try
        {
            using var body = new MemoryStream();
            await context.Request.InputStream.CopyToAsync(body);
            if (context.Request.HttpMethod == "POST" && context.Request.Url?.AbsolutePath == "/v1/traces")
            {
                foreach (var span in OtlpTraceDecoder.Decode(body.ToArray()))
                    _spans.Enqueue(span);
            }
            // An empty Export*ServiceResponse is zero bytes of protobuf: full success.
            context.Response.StatusCode = 200;
            context.Response.ContentType = "application/x-protobuf";
            context.Response.ContentLength64 = 0;
        }
        catch (Exception ex)
        {
            _errors.Enqueue($"{context.Request.Url?.AbsolutePath}: {ex.GetType().Name}: {ex.Message}");
            context.Response.StatusCode = 400;
        }
        finally
        {
            context.Response.Close();
        }
    }

    public async ValueTask DisposeAsync()
    {
        _stop.Cancel();
        _listener.Stop();
        _listener.Close();
        try { await _loop; } catch (ObjectDisposedException) { }
    }
}
