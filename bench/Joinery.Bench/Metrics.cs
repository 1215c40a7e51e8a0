using System.Globalization;

namespace Joinery.Bench;

/// <summary>
/// Reads the services' own Prometheus endpoint (/metrics, OpenTelemetry's runtime metrics): how many methods the JIT
/// has compiled so far tells whether a service is still warming up.
/// </summary>
public sealed class Metrics(IReadOnlyDictionary<string, Uri> endpoints) : IDisposable
{
    readonly HttpClient _http = new() { Timeout = TimeSpan.FromSeconds(5) };

    public IReadOnlyDictionary<string, Uri> Endpoints => endpoints;

    public static Metrics FromEnvironment(string? spec)
    {
        var endpoints = new Dictionary<string, Uri>();
        foreach (var part in (spec ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=', 2);
            if (kv.Length == 2 && Uri.TryCreate(kv[1], UriKind.Absolute, out var uri) && uri.Host is "127.0.0.1" or "localhost")
                endpoints[kv[0]] = uri;
        }
        return new Metrics(endpoints);
    }

    /// <summary>Methods compiled by the JIT in every service together (NaN when none answers).</summary>
    public async Task<double> JitCompiledMethods(CancellationToken ct)
    {
        double total = 0;
        var any = false;
        foreach (var (_, uri) in endpoints)
        {
            if (await Read(uri, "dotnet_jit_compiled_methods_total", ct) is { } v)
            {
                total += v;
                any = true;
            }
        }
        return any ? total : double.NaN;
    }

    async Task<double?> Read(Uri uri, string name, CancellationToken ct)
    {
        try
        {
            var text = await _http.GetStringAsync(uri, ct);
            double sum = 0;
            var found = false;
            foreach (var line in text.Split('\n'))
            {
                if (!line.StartsWith(name, StringComparison.Ordinal) || line.Length <= name.Length || line[name.Length] is not ('{' or ' '))
                    continue;
                var value = line[(line.LastIndexOf(' ') + 1)..];
                if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var v))
                {
                    sum += v;
                    found = true;
                }
            }
            return found ? sum : null;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return null;
        }
    }

    public void Dispose() => _http.Dispose();
}
