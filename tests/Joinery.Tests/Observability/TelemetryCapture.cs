using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Joinery.Tests.Observability;

/// <summary>
/// Records every span of the given sources that stops while it is alive. Listeners are process-wide and tests run in
/// parallel, so callers pick out their own spans (by a signup id unique to the test).
/// </summary>
public sealed class SpanCapture : IDisposable
{
    readonly ActivityListener _listener;
    readonly ConcurrentQueue<Activity> _stopped = new();

    public SpanCapture(params string[] sources)
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => sources.Contains(source.Name),
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = _stopped.Enqueue,
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public IReadOnlyList<Activity> Stopped => _stopped.ToList();

    public IReadOnlyList<Activity> Tagged(string tag, string value) =>
        _stopped.Where(a => a.GetTagItem(tag) as string == value).ToList();

    public static string Describe(IEnumerable<Activity> spans) =>
        "[" + string.Join("; ", spans.Select(a =>
            $"{a.DisplayName} ({string.Join(", ", a.TagObjects.Where(t => t.Key.StartsWith("joinery.")).Select(t => $"{t.Key}={t.Value}"))})")) + "]";

    public void Dispose() => _listener.Dispose();
}

/// <summary>One measurement of an instrument of the <c>Joinery</c> meter.</summary>
public sealed record Measurement(string Instrument, double Value, IReadOnlyDictionary<string, object?> Tags)
{
    public string? Tag(string key) => Tags.TryGetValue(key, out var v) ? v?.ToString() : null;
    public override string ToString() => $"{Instrument}={Value} {{{string.Join(", ", Tags.Select(t => $"{t.Key}={t.Value}"))}}}";
}

/// <summary>Records what the instruments of one meter measure while it is alive.</summary>
public sealed class MetricCapture : IDisposable
{
    readonly MeterListener _listener = new();
    readonly ConcurrentQueue<Measurement> _measurements = new();

    public MetricCapture(string meterName)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == meterName)
                listener.EnableMeasurementEvents(instrument);
        };
        _listener.SetMeasurementEventCallback<long>((i, v, tags, _) => Record(i, v, tags));
        _listener.SetMeasurementEventCallback<double>((i, v, tags, _) => Record(i, v, tags));
        _listener.Start();
    }

    void Record(Instrument instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        var dictionary = new Dictionary<string, object?>();
        foreach (var tag in tags)
            dictionary[tag.Key] = tag.Value;
        _measurements.Enqueue(new Measurement(instrument.Name, value, dictionary));
    }

    public IReadOnlyList<Measurement> Of(string instrument) => _measurements.Where(m => m.Instrument == instrument).ToList();

    public IReadOnlyList<Measurement> All => _measurements.ToList();

    public void Dispose() => _listener.Dispose();
}
