using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;

namespace Joinery.Bench;

/// <summary>One signup the benchmark sent: when, what the POST answered, and when the saga completed it.</summary>
public sealed class SentSignup(long index, DateTimeOffset sentAt, long sentTimestamp)
{
    public long Index { get; } = index;
    public DateTimeOffset SentAt { get; } = sentAt;
    public long SentTimestamp { get; } = sentTimestamp;
    public int Status { get; set; }
    public string? Error { get; set; }
    public Guid Id { get; set; }
    public double PostMs { get; set; }
    /// <summary>Completed or Failed, once seen.</summary>
    public string? FinalState { get; set; }
    /// <summary>The saga's own stamp of its last transition (for Completed: the moment it completed), gateway clock.</summary>
    public DateTimeOffset? CompletedAt { get; set; }
    /// <summary>For the sampled signups: when the status API first answered Completed (bench clock).</summary>
    public DateTimeOffset? VisibleAt { get; set; }

    public bool Accepted => Status == 202 && Id != Guid.Empty;
    public double? LatencyMs => CompletedAt is { } at ? (at - SentAt).TotalMilliseconds : null;
    public double? VisibleLatencyMs => VisibleAt is { } at ? (at - SentAt).TotalMilliseconds : null;
}

public sealed record StepResult(
    double OfferedRate, double Seconds, int Sent, int Accepted, int Completed, int Failed, int Errors, bool Overloaded,
    double AchievedRate, double P50, double P95, double P99, double Max, double MaxClientLagMs, double VisibleP50, double VisibleP99,
    int VisibleSamples, string? Reason)
{
    public bool Passed => Reason is null;
}

/// <summary>
/// Sends signups to the gateway at a fixed arrival rate (open loop: the next POST does not wait for the last one),
/// then waits, bounded, until every one of them is final. Completion is read through the status API: the saga
/// stamps <c>updatedAt</c> when it moves to Completed (and never touches a completed signup again), so one look at
/// each signup after it finished gives its completion time to the tick, without polling every signup every few
/// milliseconds (which would load the gateway being measured). One signup in <see cref="VisibleSampleEvery"/> is
/// also polled every <see cref="VisiblePollInterval"/> from its POST on, to measure when a visitor would first see
/// Completed: that is the check on the stamp (the stamp precedes the saga's save by the time the save takes).
/// </summary>
public sealed class SignupLoad : IDisposable
{
    public const int VisibleSampleEvery = 20;
    /// <summary>After a step, how long at most to wait (uncounted) for signups that outlived its drain time.</summary>
    public static readonly TimeSpan SettleTime = TimeSpan.FromSeconds(60);
    public static readonly TimeSpan VisiblePollInterval = TimeSpan.FromMilliseconds(2);

    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    readonly HttpClient _post;
    readonly HttpClient _status;
    readonly string _runTag = DateTime.UtcNow.ToString("HHmmss") + Random.Shared.Next(1000, 9999);
    long _next;

    public SignupLoad(Uri gateway, int maxConnections)
    {
        _post = new HttpClient(new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionIdleTimeout = TimeSpan.FromSeconds(30),
            UseProxy = false,
        }) { BaseAddress = gateway, Timeout = TimeSpan.FromSeconds(10) };
        _status = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = 16, UseProxy = false })
        {
            BaseAddress = gateway,
            Timeout = TimeSpan.FromSeconds(10),
        };
    }

    /// <summary>A fresh, valid signup body: every email unique, so none is a duplicate of another.</summary>
    public static StringContent Body(string tag, long i) => new(
        $$"""{"name":"Bench Person {{i}}","email":"bench-{{tag}}-{{i}}@example.com","consent":true}""",
        Encoding.UTF8, "application/json");

    /// <summary>Runs one step: <paramref name="rate"/> signups/s for <paramref name="seconds"/>, then waits for them all.</summary>
    public async Task<StepResult> RunStep(double rate, double seconds, TimeSpan drain, int maxInFlight, bool sampleVisible,
        CancellationToken cancellationToken)
    {
        var count = Math.Max(1, (int)Math.Round(rate * seconds));
        var sent = new List<SentSignup>(count);
        var posts = new List<Task>(count);
        var visible = new List<Task>();
        var inFlight = 0;
        var overloaded = false;
        double maxLagMs = 0;

        var start = Stopwatch.GetTimestamp();
        var ticksPerSignup = Stopwatch.Frequency / rate;
        for (var i = 0; i < count && !cancellationToken.IsCancellationRequested; i++)
        {
            var due = start + (long)(i * ticksPerSignup);
            var now = Stopwatch.GetTimestamp();
            if (due > now)
            {
                // Sleep (about 1 ms granularity) rather than spin: the bench shares the two cores with what it measures.
                // Whatever fell due meanwhile goes out at once; the lateness is recorded as the client's lag.
                var waitMs = (due - now) * 1000.0 / Stopwatch.Frequency;
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Max(1, waitMs)), cancellationToken);
            }
            maxLagMs = Math.Max(maxLagMs, (Stopwatch.GetTimestamp() - due) * 1000.0 / Stopwatch.Frequency);
            if (Volatile.Read(ref inFlight) >= maxInFlight)
            {
                overloaded = true; // the gateway does not keep up: stop offering more
                break;
            }
            var s = new SentSignup(Interlocked.Increment(ref _next), DateTimeOffset.UtcNow, Stopwatch.GetTimestamp());
            sent.Add(s);
            Interlocked.Increment(ref inFlight);
            var post = Post(s, cancellationToken).ContinueWith(_ => Interlocked.Decrement(ref inFlight), TaskScheduler.Default);
            posts.Add(post);
            if (sampleVisible && s.Index % VisibleSampleEvery == 0)
                visible.Add(WatchVisible(s, post, cancellationToken));
        }
        var sendSeconds = (Stopwatch.GetTimestamp() - start) / (double)Stopwatch.Frequency;
        await Task.WhenAll(posts);
        await Task.WhenAll(visible);
        await AwaitFinal(sent.Where(s => s.Accepted && s.FinalState is null).ToList(), drain, cancellationToken);
        var result = Summarize(rate, sendSeconds, sent, overloaded, maxLagMs);
        // Not counted: let a backlog that outlived the drain time clear (bounded), so the next step starts idle.
        var leftover = sent.Where(s => s.Accepted && s.FinalState is null).ToList();
        if (leftover.Count > 0)
            await AwaitFinal(leftover, SettleTime, cancellationToken);
        return result;
    }

    async Task Post(SentSignup s, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _post.PostAsync("/api/signups", Body(_runTag, s.Index), cancellationToken);
            s.Status = (int)response.StatusCode;
            var text = await response.Content.ReadAsStringAsync(cancellationToken);
            s.PostMs = (Stopwatch.GetTimestamp() - s.SentTimestamp) * 1000.0 / Stopwatch.Frequency;
            if (response.StatusCode == HttpStatusCode.Accepted)
            {
                using var doc = JsonDocument.Parse(text);
                s.Id = doc.RootElement.GetProperty("id").GetGuid();
            }
            else
                s.Error = $"HTTP {(int)response.StatusCode}: {Truncate(text)}";
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or IOException)
        {
            s.Error = e.GetType().Name + ": " + e.Message;
        }
    }

    /// <summary>Polls one sampled signup's status every 2 ms from its POST's answer on, until Completed (bounded 10 s).</summary>
    async Task WatchVisible(SentSignup s, Task post, CancellationToken cancellationToken)
    {
        await post;
        if (!s.Accepted)
            return;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
        {
            var status = await ReadStatus(s.Id, cancellationToken);
            var seenAt = DateTimeOffset.UtcNow;
            if (status is { Final: true })
            {
                s.VisibleAt = seenAt;
                s.FinalState = status.State;
                s.CompletedAt = status.UpdatedAt;
                return;
            }
            await Task.Delay(VisiblePollInterval, cancellationToken);
        }
    }

    /// <summary>
    /// Waits until every signup is final, oldest first: each round looks at the 64 oldest unfinished ones (8 at a
    /// time), then pauses 100 ms, so waiting never loads the gateway with more than a few hundred GETs a second.
    /// </summary>
    async Task AwaitFinal(List<SentSignup> pending, TimeSpan drain, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + drain;
        pending = pending.OrderBy(s => s.Index).ToList();
        while (pending.Count > 0 && DateTime.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
        {
            var batch = pending.Take(64).ToList();
            await Parallel.ForEachAsync(batch, new ParallelOptions { MaxDegreeOfParallelism = 8, CancellationToken = cancellationToken },
                async (s, ct) =>
                {
                    if (await ReadStatus(s.Id, ct) is { Final: true } st)
                    {
                        s.FinalState = st.State;
                        s.CompletedAt = st.UpdatedAt;
                    }
                });
            pending.RemoveAll(s => s.FinalState is not null);
            if (batch.All(s => s.FinalState is not null) && pending.Count > 0)
                continue; // the oldest are done: look further at once
            await Task.Delay(100, cancellationToken);
        }
    }

    sealed record Status(string State, bool Final, DateTimeOffset? UpdatedAt);

    async Task<Status?> ReadStatus(Guid id, CancellationToken cancellationToken)
    {
        try
        {
            using var response = await _status.GetAsync($"/api/signups/{id}", cancellationToken);
            if (!response.IsSuccessStatusCode)
                return null;
            await using var stream = await response.Content.ReadAsStreamAsync(cancellationToken);
            using var doc = await JsonDocument.ParseAsync(stream, cancellationToken: cancellationToken);
            var root = doc.RootElement;
            var state = root.GetProperty("status").GetString() ?? "";
            var final = root.TryGetProperty("final", out var f) && f.ValueKind == JsonValueKind.True;
            DateTimeOffset? updated = root.TryGetProperty("updatedAt", out var u) && u.ValueKind == JsonValueKind.String
                ? u.GetDateTimeOffset()
                : null;
            return new Status(state, final, updated);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or IOException)
        {
            return null;
        }
    }

    static StepResult Summarize(double rate, double sendSeconds, List<SentSignup> sent, bool overloaded, double maxLagMs)
    {
        var accepted = sent.Count(s => s.Accepted);
        var completed = sent.Where(s => s.FinalState == "Completed" && s.CompletedAt is not null).ToList();
        var failed = sent.Count(s => s.FinalState is not null and not "Completed");
        var errors = sent.Count(s => !s.Accepted);
        var latencies = completed.Select(s => s.LatencyMs!.Value).Order().ToArray();
        var visible = sent.Where(s => s.VisibleLatencyMs is not null).Select(s => s.VisibleLatencyMs!.Value).Order().ToArray();

        // Whole trips per second: from the first POST to the last completion.
        double achieved = 0;
        if (completed.Count > 0)
        {
            var first = sent.Min(s => s.SentAt);
            var last = completed.Max(s => s.CompletedAt!.Value);
            achieved = completed.Count / Math.Max(1e-3, (last - first).TotalSeconds);
        }

        string? reason = null;
        if (overloaded)
            reason = "POSTs piled up beyond the in-flight bound";
        else if (errors > 0)
            reason = $"{errors} POSTs failed (first: {sent.First(s => !s.Accepted).Error})";
        else if (failed > 0)
            reason = $"{failed} signups ended Failed";
        else if (completed.Count < sent.Count)
            reason = $"{sent.Count - completed.Count} signups not Completed within the drain time";
        else if (Percentile(latencies, 0.99) > SustainedP99LimitMs)
            reason = $"p99 {Percentile(latencies, 0.99):0} ms > {SustainedP99LimitMs} ms: a backlog built up";
        else if (achieved < SustainedFraction * rate)
            reason = $"completed {achieved:0.0}/s < {SustainedFraction:P0} of the offered {rate:0.0}/s";

        return new StepResult(rate, sendSeconds, sent.Count, accepted, completed.Count, failed, errors, overloaded, achieved,
            Percentile(latencies, 0.50), Percentile(latencies, 0.95), Percentile(latencies, 0.99),
            latencies.Length > 0 ? latencies[^1] : double.NaN, maxLagMs,
            Percentile(visible, 0.50), Percentile(visible, 0.99), visible.Length, reason);
    }

    /// <summary>A rate is sustained when no backlog builds: p99 stays under this, and completions keep pace.</summary>
    public const double SustainedP99LimitMs = 1000;
    public const double SustainedFraction = 0.90;

    public static double Percentile(double[] sorted, double p)
    {
        if (sorted.Length == 0)
            return double.NaN;
        var rank = (int)Math.Ceiling(p * sorted.Length) - 1; // nearest rank
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    static string Truncate(string s) => s.Length <= 200 ? s : s[..200] + "...";

    public void Dispose()
    {
        _post.Dispose();
        _status.Dispose();
    }
}

/// <summary>Closed loop: <c>concurrency</c> clients each POST as fast as answers come back, for a fixed time.</summary>
public static class ClosedLoop
{
    public sealed record Result(double RequestsPerSecond, long Ok, long Errors, double Seconds, double P50Ms, double P99Ms, string? FirstError);

    public static async Task<Result> Run(Uri target, string path, int concurrency, double seconds, double warmupSeconds,
        CancellationToken cancellationToken)
    {
        using var http = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = concurrency, UseProxy = false })
        {
            BaseAddress = target,
            Timeout = TimeSpan.FromSeconds(10),
        };
        var tag = "cl" + DateTime.UtcNow.ToString("HHmmssfff") + Random.Shared.Next(100, 999);
        long index = 0, ok = 0, errors = 0;
        string? firstError = null;
        await Loop(warmupSeconds, new ConcurrentBag<double>());
        var times = new ConcurrentBag<double>();
        var clock = Stopwatch.StartNew();
        await Loop(seconds, times, count: true);
        var elapsed = clock.Elapsed.TotalSeconds;
        var sorted = times.Order().ToArray();
        return new Result(ok / elapsed, ok, errors, elapsed, SignupLoad.Percentile(sorted, 0.5), SignupLoad.Percentile(sorted, 0.99), firstError);

        async Task Loop(double forSeconds, ConcurrentBag<double> into, bool count = false)
        {
            var until = Stopwatch.GetTimestamp() + (long)(forSeconds * Stopwatch.Frequency);
            await Task.WhenAll(Enumerable.Range(0, concurrency).Select(async _ =>
            {
                while (Stopwatch.GetTimestamp() < until && !cancellationToken.IsCancellationRequested)
                {
                    var i = Interlocked.Increment(ref index);
                    var t0 = Stopwatch.GetTimestamp();
                    try
                    {
                        using var response = await http.PostAsync(path, SignupLoad.Body(tag, i), cancellationToken);
                        await response.Content.ReadAsByteArrayAsync(cancellationToken);
                        if (!count)
                            continue;
                        if (response.StatusCode == HttpStatusCode.Accepted)
                        {
                            Interlocked.Increment(ref ok);
                            into.Add((Stopwatch.GetTimestamp() - t0) * 1000.0 / Stopwatch.Frequency);
                        }
                        else
                        {
                            Interlocked.Increment(ref errors);
                            firstError ??= $"HTTP {(int)response.StatusCode}";
                        }
                    }
                    catch (Exception e) when (e is HttpRequestException or TaskCanceledException or IOException)
                    {
                        if (count)
                        {
                            Interlocked.Increment(ref errors);
                            firstError ??= e.GetType().Name + ": " + e.Message;
                        }
                    }
                }
            }));
        }
    }
}
