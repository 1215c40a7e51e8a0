using System.Globalization;

namespace Joinery.Bench;

/// <summary>
/// What the run needs, from the environment that bench/run.sh sets (every value has a default, so the program also
/// runs by hand against a local mode started with the same settings). Every loop below is bounded by these.
/// </summary>
public sealed record BenchOptions
{
    /// <summary>The gateway of the local mode under test; only 127.0.0.1 is accepted.</summary>
    public Uri GatewayUrl { get; init; } = new("http://127.0.0.1:18180");
    /// <summary>The local mode's state folder (its pids/ tell which process is which).</summary>
    public string LocalDir { get; init; } = ".local/bench";
    /// <summary>The services' RabbitMQ virtual host (the gateway-alone phase publishes here, to the same exchange).</summary>
    public Uri ServicesRabbitUri { get; init; } = new("amqp://guest:guest@127.0.0.1:5672/joinery-bench");
    /// <summary>A virtual host of its own for the broker ceiling, on the same RabbitMQ.</summary>
    public Uri BrokerRabbitUri { get; init; } = new("amqp://guest:guest@127.0.0.1:5672/joinery-bench-broker");
    public int KestrelPort { get; init; } = 18184;
    public string ResultsFile { get; init; } = ".artifacts/bench/results.txt";

    /// <summary>Broker ceiling: how long to publish and consume (after a warm-up), seconds.</summary>
    public double BrokerSeconds { get; init; } = 6;
    /// <summary>One step of the rate search, seconds of arrivals.</summary>
    public double StepSeconds { get; init; } = 8;
    /// <summary>The rate search starts here and doubles until a step fails, then bisects.</summary>
    public double StartRate { get; init; } = 25;
    /// <summary>Never offer more than this (signups/s), whatever the search says.</summary>
    public double MaxRate { get; init; } = 3200;
    /// <summary>Bisection steps after the first failing rate.</summary>
    public int Refinements { get; init; } = 3;
    /// <summary>How long the signups of one step may take to finish after its last POST, seconds.</summary>
    public double DrainSeconds { get; init; } = 20;
    /// <summary>Latency phase: seconds of arrivals at half the sustained rate.</summary>
    public double LatencySeconds { get; init; } = 15;
    /// <summary>Gateway-alone phase: seconds per measured target per round (bare Kestrel, publish, gateway).</summary>
    public double GatewaySeconds { get; init; } = 5;
    public int GatewayRounds { get; init; } = 2;
    /// <summary>Requests (or publishes) in flight in the closed-loop phases.</summary>
    public int Concurrency { get; init; } = 32;
    /// <summary>A step whose POSTs pile up beyond this many in flight has failed (the gateway does not keep up).</summary>
    public int MaxInFlight { get; init; } = 2000;
    /// <summary>Warm-up steps (5 s each) at most, before the search; it stops early once the JIT is quiet.</summary>
    public int WarmUpSteps { get; init; } = 8;
    /// <summary>Skip phase 4 (stopping the consumers); for quick runs while profiling.</summary>
    public bool SkipGatewayAlone { get; init; }
    /// <summary>Run only the phases listed (comma-separated: broker,system,latency,gateway); empty: all.</summary>
    public string Only { get; init; } = "";
    /// <summary>Instead of the search, run exactly these rates (comma-separated signups/s); for profiling at a fixed load.</summary>
    public double[] FixedRates { get; init; } = [];

    public bool Runs(string phase) =>
        string.IsNullOrWhiteSpace(Only) || Only.Split(',', StringSplitOptions.TrimEntries).Contains(phase, StringComparer.OrdinalIgnoreCase);

    public static BenchOptions FromEnvironment()
    {
        var o = new BenchOptions();
        o = o with
        {
            GatewayUrl = Url("BENCH_GATEWAY_URL", o.GatewayUrl),
            LocalDir = Str("BENCH_LOCAL_DIR", o.LocalDir),
            ServicesRabbitUri = new Uri(Str("BENCH_SERVICES_RABBIT_URI", o.ServicesRabbitUri.ToString())),
            BrokerRabbitUri = new Uri(Str("BENCH_BROKER_RABBIT_URI", o.BrokerRabbitUri.ToString())),
            KestrelPort = (int)Num("BENCH_KESTREL_PORT", o.KestrelPort),
            ResultsFile = Str("BENCH_RESULTS", o.ResultsFile),
            BrokerSeconds = Num("BENCH_BROKER_SECONDS", o.BrokerSeconds),
            StepSeconds = Num("BENCH_STEP_SECONDS", o.StepSeconds),
            StartRate = Num("BENCH_START_RATE", o.StartRate),
            MaxRate = Num("BENCH_MAX_RATE", o.MaxRate),
            Refinements = (int)Num("BENCH_REFINEMENTS", o.Refinements),
            DrainSeconds = Num("BENCH_DRAIN_SECONDS", o.DrainSeconds),
            LatencySeconds = Num("BENCH_LATENCY_SECONDS", o.LatencySeconds),
            GatewaySeconds = Num("BENCH_GATEWAY_SECONDS", o.GatewaySeconds),
            GatewayRounds = (int)Num("BENCH_GATEWAY_ROUNDS", o.GatewayRounds),
            Concurrency = (int)Num("BENCH_CONCURRENCY", o.Concurrency),
            MaxInFlight = (int)Num("BENCH_MAX_IN_FLIGHT", o.MaxInFlight),
            Only = Str("BENCH_ONLY", o.Only),
            WarmUpSteps = (int)Num("BENCH_WARMUP_STEPS", o.WarmUpSteps),
            FixedRates = Str("BENCH_RATES", "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(r => double.Parse(r, CultureInfo.InvariantCulture)).ToArray(),
        };
        if (!IsLoopback(o.GatewayUrl) || !IsLoopback(o.ServicesRabbitUri) || !IsLoopback(o.BrokerRabbitUri))
            throw new ArgumentException("The benchmark only sends traffic to 127.0.0.1.");
        if (o.StepSeconds is <= 0 or > 60 || o.LatencySeconds is <= 0 or > 120 || o.BrokerSeconds is <= 0 or > 60
            || o.GatewaySeconds is <= 0 or > 60 || o.DrainSeconds is <= 0 or > 120 || o.MaxRate is <= 0 or > 20000
            || o.Concurrency is < 1 or > 1024 || o.FixedRates.Any(r => r is <= 0 or > 20000) || o.FixedRates.Length > 10 || o.GatewayRounds is < 1 or > 5 || o.Refinements is < 0 or > 6 || o.WarmUpSteps is < 1 or > 20)
            throw new ArgumentException("A BENCH_* setting is out of its bounds (see bench/README.md).");
        return o;
    }

    static bool IsLoopback(Uri uri) => uri.Host is "127.0.0.1" or "localhost";

    static string Str(string name, string fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } v ? v : fallback;

    static Uri Url(string name, Uri fallback) => new(Str(name, fallback.ToString()));

    static double Num(string name, double fallback) =>
        Environment.GetEnvironmentVariable(name) is { Length: > 0 } v
            ? double.Parse(v, CultureInfo.InvariantCulture)
            : fallback;
}
