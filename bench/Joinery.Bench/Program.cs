using System.Diagnostics;
using Joinery.Bench;

// Joinery.Bench: run by bench/run.sh against a local mode it started (see bench/README.md).
//   Joinery.Bench            the benchmark, settings from BENCH_* environment variables
//   Joinery.Bench kestrel N  the bare Kestrel endpoint on 127.0.0.1:N (the benchmark starts it itself)
if (args.Length >= 2 && args[0] == "kestrel")
    return await BareKestrel.Run(int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture));

var options = BenchOptions.FromEnvironment();
using var cts = new CancellationTokenSource(TimeSpan.FromMinutes(15)); // the whole run is bounded, whatever happens
Console.CancelKeyPress += (_, e) => { e.Cancel = true; cts.Cancel(); };
return await new BenchRun(options).Run(cts.Token);

namespace Joinery.Bench
{
    sealed class BenchAborted(string message) : Exception(message);

    sealed class BenchRun(BenchOptions options)
    {
        // name | assembly (as up.sh starts them; lib.sh's LOCAL_PROCESSES)
        static readonly (string Name, string Assembly)[] LocalProcesses =
        [
            ("gateway", "Joinery.Gateway"),
            ("store", "Joinery.Store"),
            ("crm-sync", "Joinery.CrmSync"),
            ("slack-invite", "Joinery.SlackInvite"),
            ("fake-apis", "Joinery.FakeApis"),
        ];
        static readonly string[] Consumers = ["store", "crm-sync", "slack-invite"];
        static readonly string[] Services = ["gateway", "store", "crm-sync", "slack-invite"];

        readonly Report _report = new();
        readonly Dictionary<string, int> _pids = [];
        readonly Dictionary<string, string> _markers = [];
        readonly Dictionary<string, long> _peakKb = [];
        readonly List<Watched> _watched = [];
        readonly Metrics _metrics = Metrics.FromEnvironment(Environment.GetEnvironmentVariable("BENCH_METRICS"));

        public async Task<int> Run(CancellationToken ct)
        {
            try
            {
                return await RunPhases(ct);
            }
            catch (BenchAborted e)
            {
                Log("ABORTED: " + e.Message);
                return 2;
            }
        }

        /// <summary>Which services do not answer their readiness check right now ("all ready" when all do).</summary>
        async Task<string> NotReady(CancellationToken ct)
        {
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
            var down = new List<string>();
            foreach (var (name, uri) in _metrics.Endpoints)
            {
                try
                {
                    using var r = await http.GetAsync(new Uri(uri, "/health/ready"), ct);
                    if (!r.IsSuccessStatusCode)
                        down.Add($"{name} {(int)r.StatusCode}");
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
                {
                    down.Add($"{name} unreachable");
                }
            }
            return down.Count == 0 ? "all ready" : "not ready: " + string.Join(", ", down);
        }

        async Task<int> RunPhases(CancellationToken ct)
        {
            FindProcesses();
            if (await NotReady(ct) is var ready && ready != "all ready")
                throw new BenchAborted($"the local mode is not ready ({ready})");
            var loadStart = ProcessStats.LoadAverage();
            Log($"load at start: {ProcessStats.Uptime()} (1, 5, 15 min averages; this machine has {Environment.ProcessorCount} cores)");
            _report.Add("Machine", "cores", Environment.ProcessorCount.ToString());
            _report.Add("Machine", "load at start (uptime)", ProcessStats.Uptime());
            _report.Metric("machine_cores", Environment.ProcessorCount, "cores");
            _report.Metric("load_start", loadStart, "loadavg");

            BrokerCeiling? ceiling = null;
            StepResult? best = null;
            ClosedLoop.Result? gatewayAlone = null;
            PublishRate? rawPublish = null;
            StepResult? latency = null;

            if (options.Runs("broker"))
                ceiling = await PhaseBroker(ct);
            if (options.Runs("system"))
                best = await PhaseSystem(ct);
            if (options.Runs("latency") && best is not null)
                latency = await PhaseLatency(best.OfferedRate / 2, ct);
            if (options.Runs("gateway") && !options.SkipGatewayAlone)
                (gatewayAlone, rawPublish) = await PhaseGatewayAlone(ct);
            PhaseMemory();

            var loadEnd = ProcessStats.LoadAverage();
            _report.Add("Machine", "load at end (uptime)", ProcessStats.Uptime());
            _report.Metric("load_end", loadEnd, "loadavg");
            Goals(ceiling, best, latency, gatewayAlone, rawPublish);

            Console.WriteLine(_report.Render());
            _report.Write(options.ResultsFile);
            Log($"results written to {Path.GetFullPath(options.ResultsFile)} (and the table beside it)");
            return 0;
        }

        // ---------------------------------------------------------------- (1) broker ceiling

        async Task<BrokerCeiling> PhaseBroker(CancellationToken ct)
        {
            Log($"(1) broker ceiling: MassTransit publish (confirms on) + consume of SignupRequested on {Redact(options.BrokerRabbitUri)}, {options.BrokerSeconds:0} s");
            var before = Snap();
            var c = await BrokerBench.Ceiling(options.BrokerRabbitUri, options.BrokerSeconds, publishers: 64, prefetch: 256, concurrency: 64, ct);
            var cpu = ProcessStats.Between(before, Snap());
            Log($"    {c.MessagesPerSecond:0} msg/s ({c.Messages} messages in {c.Seconds:0.0} s, body {c.BodyBytes} bytes) {Cpu(cpu)}");
            _report.Add("(1) Broker ceiling (MassTransit, confirms on, same RabbitMQ)", "messages/s (published + consumed)", Report.F(c.MessagesPerSecond, "0"));
            _report.Add("(1) Broker ceiling (MassTransit, confirms on, same RabbitMQ)", "message body", $"{c.BodyBytes} bytes (SignupRequested in MassTransit's JSON envelope)");
            _report.Add("(1) Broker ceiling (MassTransit, confirms on, same RabbitMQ)", "settings", $"{c.Publishers} publishers in flight, prefetch {c.Prefetch}, {c.ConsumerConcurrency} concurrent consumers");
            _report.Add("(1) Broker ceiling (MassTransit, confirms on, same RabbitMQ)", "CPU (% of one core)", CpuText(cpu, "rabbitmq", "bench"));
            _report.Metric("broker_ceiling", c.MessagesPerSecond, "msg/s");
            _report.Metric("broker_message_bytes", c.BodyBytes, "bytes");
            _report.Metric("broker_cpu_rabbitmq", Get(cpu, "rabbitmq"), "%core");
            _report.Metric("broker_cpu_bench", Get(cpu, "bench"), "%core");
            return c;
        }

        // ---------------------------------------------------------------- (2) sustained throughput

        async Task<StepResult?> PhaseSystem(CancellationToken ct)
        {
            Log($"(2) whole system: open-loop arrivals, {options.StepSeconds:0} s per step, starting at {options.StartRate}/s, doubling, then {options.Refinements} bisections");
            Log($"    a step passes when every POST is 202, every signup is Completed (none Failed), p99 <= {SignupLoad.SustainedP99LimitMs} ms and completions keep {SignupLoad.SustainedFraction:P0} of the pace");
            using var load = new SignupLoad(options.GatewayUrl, options.MaxInFlight);

            await WarmUp(load, ct);

            StepResult? best = null, firstFail = null;
            CpuUse? bestCpu = null;
            var rate = options.StartRate;
            var steps = 0;
            foreach (var fixedRate in options.FixedRates)
            {
                var (r, cpu) = await Step(load, fixedRate, ct);
                if (r.Passed && (best is null || r.OfferedRate > best.OfferedRate)) { best = r; bestCpu = cpu; }
                else if (!r.Passed) firstFail ??= r;
            }
            while (options.FixedRates.Length == 0 && rate <= options.MaxRate && steps < 12)
            {
                var (r, cpu) = await Step(load, rate, ct);
                steps++;
                if (r.Passed) { best = r; bestCpu = cpu; rate *= 2; }
                else { firstFail = r; break; }
            }
            if (options.FixedRates.Length == 0 && best is not null && firstFail is not null)
            {
                double lo = best.OfferedRate, hi = firstFail.OfferedRate;
                for (var i = 0; i < options.Refinements && steps < 12; i++, steps++)
                {
                    var mid = Math.Round(Math.Sqrt(lo * hi));
                    if (mid <= lo || mid >= hi)
                        break;
                    var (r, cpu) = await Step(load, mid, ct);
                    if (r.Passed) { best = r; bestCpu = cpu; lo = mid; }
                    else { hi = mid; firstFail = r; }
                }
            }

            const string section = "(2) Whole system: POST /api/signups -> Completed, sustained";
            if (best is null)
            {
                _report.Add(section, "result", $"no rate passed (lowest tried {options.StartRate}/s: {firstFail?.Reason})");
                _report.Metric("system_signups", 0, "signups/s");
                return null;
            }
            _report.Add(section, "signups/s (completed, first POST to last Completed)", Report.F(best.AchievedRate));
            _report.Add(section, "offered rate at that step", $"{Report.F(best.OfferedRate, "0")}/s for {best.Seconds:0.0} s ({best.Sent} signups, all Completed)");
            _report.Add(section, "latency at that rate p50/p99", $"{Report.F(best.P50)} / {Report.F(best.P99)} ms");
            if (firstFail is not null)
                _report.Add(section, "lowest failing rate", $"{Report.F(firstFail.OfferedRate, "0")}/s: {firstFail.Reason}");
            if (bestCpu is not null)
            {
                _report.Add(section, "CPU at that rate (% of one core)", CpuText(bestCpu, [.. Services, "fake-apis", "rabbitmq", "bench"]));
                _report.Add(section, "others' CPU on the machine then", $"{bestCpu.OthersPercentOfOneCore:0}% of one core (machine {bestCpu.MachineBusyPercent:0}% busy)");
                // CPU time per signup: what each process spends on one, whatever else ran on the machine meanwhile.
                var perSignup = Services.Append("fake-apis").Append("rabbitmq")
                    .Select(n => (n, ms: bestCpu.CpuSeconds(n) * 1000.0 / best.Sent)).ToList();
                _report.Add(section, "CPU time per signup (ms; incl. one status GET each)", string.Join(", ", perSignup.Select(x => $"{x.n} {x.ms:0.00}")) +
                    $"; total {perSignup.Sum(x => x.ms):0.0}");
                foreach (var name in Services.Append("fake-apis").Append("rabbitmq").Append("bench"))
                    _report.Metric($"system_cpu_{name}", Get(bestCpu, name), "%core");
                foreach (var (n, ms) in perSignup)
                    _report.Metric($"system_cpu_ms_per_signup_{n}", ms, "ms");
                _report.Metric("system_cpu_others", bestCpu.OthersPercentOfOneCore, "%core");
            }
            _report.Metric("system_signups", best.AchievedRate, "signups/s");
            _report.Metric("system_offered_rate", best.OfferedRate, "signups/s");
            _report.Metric("system_first_failing_rate", firstFail?.OfferedRate ?? double.NaN, "signups/s");
            return best;
        }

        /// <summary>
        /// Not counted: runs 5 s steps at a modest rate until the services' JIT has (nearly) stopped compiling, so the
        /// search measures optimized code rather than start-up. Tiered compilation promotes hot methods in the
        /// background; on a busy machine that takes a while. Bounded: at most <see cref="BenchOptions.WarmUpSteps"/> steps.
        /// </summary>
        async Task WarmUp(SignupLoad load, CancellationToken ct)
        {
            var before = await _metrics.JitCompiledMethods(ct);
            for (var i = 1; i <= options.WarmUpSteps; i++)
            {
                var rate = Math.Min(options.StartRate, 25);
                var r = await load.RunStep(rate, 5, TimeSpan.FromSeconds(options.DrainSeconds), options.MaxInFlight, false, ct);
                var after = await _metrics.JitCompiledMethods(ct);
                var jitted = after - before;
                before = after;
                Log($"    warm-up {i}: {rate:0}/s, {r.Completed}/{r.Sent} completed, p50 {Report.F(r.P50)} ms, methods JIT-compiled meanwhile {Report.F(jitted, "0")}");
                // The very first signups of a cold system on a busy machine may take longer than the drain time.
                if (r.Completed == 0 && i >= 2)
                    throw new BenchAborted($"no signup of warm-up step {i} completed within {options.DrainSeconds:0} s: is RabbitMQ up " +
                        $"(rabbitmqctl status; another user may have stopped it)? Services: {await NotReady(ct)}. Logs: {Path.Combine(options.LocalDir, "logs")}");
                if (jitted < WarmJitThreshold)
                    return;
            }
            Log($"    warm-up: the JIT was still busy after {options.WarmUpSteps} steps; going on");
        }

        /// <summary>Fewer methods than this compiled in a 5 s warm-up step, across the four services: warm.</summary>
        const double WarmJitThreshold = 150;

        async Task<(StepResult, CpuUse)> Step(SignupLoad load, double rate, CancellationToken ct)
        {
            var before = Snap();
            var jitBefore = await _metrics.JitCompiledMethods(ct);
            var r = await load.RunStep(rate, options.StepSeconds, TimeSpan.FromSeconds(options.DrainSeconds), options.MaxInFlight, false, ct);
            var cpu = ProcessStats.Between(before, Snap());
            var jitted = await _metrics.JitCompiledMethods(ct) - jitBefore;
            Log($"    {rate,6:0}/s: {(r.Passed ? "pass" : "FAIL")} sent {r.Sent}, completed {r.Completed}, failed {r.Failed}, errors {r.Errors}; " +
                $"{r.AchievedRate:0.0}/s; p50 {Report.F(r.P50)} p99 {Report.F(r.P99)} max {Report.F(r.Max)} ms; client lag max {r.MaxClientLagMs:0} ms; load {ProcessStats.LoadAverage():0.00}" +
                (r.Passed ? "" : $" — {r.Reason}"));
            Log($"           {Cpu(cpu)}; methods JIT-compiled {Report.F(jitted, "0")}");
            Log("           CPU ms per signup: " + string.Join(" ", Services.Append("fake-apis").Append("rabbitmq")
                .Select(n => $"{n} {cpu.CpuSeconds(n) * 1000.0 / Math.Max(1, r.Sent):0.00}")));
            return (r, cpu);
        }

        // ---------------------------------------------------------------- (3) latency at half rate

        async Task<StepResult> PhaseLatency(double rate, CancellationToken ct)
        {
            Log($"(3) latency at half the sustained rate: {rate:0.0}/s for {options.LatencySeconds:0} s");
            using var load = new SignupLoad(options.GatewayUrl, options.MaxInFlight);
            var before = Snap();
            var r = await load.RunStep(rate, options.LatencySeconds, TimeSpan.FromSeconds(options.DrainSeconds), options.MaxInFlight, true, ct);
            var cpu = ProcessStats.Between(before, Snap());
            Log($"    {(r.Passed ? "all completed" : "NOT all completed: " + r.Reason)}; p50 {Report.F(r.P50)} p95 {Report.F(r.P95)} p99 {Report.F(r.P99)} max {Report.F(r.Max)} ms; " +
                $"visible (sample of {r.VisibleSamples}) p50 {Report.F(r.VisibleP50)} p99 {Report.F(r.VisibleP99)} ms");
            Log($"    {Cpu(cpu)}");
            const string section = "(3) Latency POST -> Completed at half that rate";
            _report.Add(section, "rate", $"{rate:0.0}/s for {r.Seconds:0.0} s ({r.Sent} signups, {r.Completed} Completed, {r.Failed} Failed, {r.Errors} errors)");
            _report.Add(section, "p50 / p95 / p99 / max", $"{Report.F(r.P50)} / {Report.F(r.P95)} / {Report.F(r.P99)} / {Report.F(r.Max)} ms");
            _report.Add(section, "how", "POST sent (bench clock) -> the saga's Completed stamp (updatedAt, read from the status API); 0.1 µs clock, same machine");
            _report.Add(section, "check: first seen Completed", $"1 in {SignupLoad.VisibleSampleEvery} polled every {SignupLoad.VisiblePollInterval.TotalMilliseconds:0} ms: p50 {Report.F(r.VisibleP50)} / p99 {Report.F(r.VisibleP99)} ms ({r.VisibleSamples} samples)");
            _report.Add(section, "CPU (% of one core)", CpuText(cpu, [.. Services, "fake-apis", "rabbitmq", "bench"]));
            _report.Metric("latency_rate", rate, "signups/s");
            _report.Metric("latency_p50", r.P50, "ms");
            _report.Metric("latency_p95", r.P95, "ms");
            _report.Metric("latency_p99", r.P99, "ms");
            _report.Metric("latency_max", r.Max, "ms");
            _report.Metric("latency_visible_p50", r.VisibleP50, "ms");
            _report.Metric("latency_visible_p99", r.VisibleP99, "ms");
            _report.Metric("latency_completed", r.Completed, "signups");
            _report.Metric("latency_not_completed", r.Sent - r.Completed, "signups");
            return r;
        }

        // ---------------------------------------------------------------- (4) the gateway alone

        async Task<(ClosedLoop.Result, PublishRate)> PhaseGatewayAlone(CancellationToken ct)
        {
            const string section = "(4) Gateway alone (consumers stopped) vs raw publish vs bare Kestrel";
            RecordPeaks(); // the consumers' peaks, before they go
            Log("(4) gateway alone: stopping store, crm-sync and slack-invite (their queues drop what arrives); the saga is unbound from SignupRequested");
            foreach (var name in Consumers)
                if (_pids.TryGetValue(name, out var pid) && !ProcessStats.Terminate(pid, _markers[name], TimeSpan.FromSeconds(15)))
                    Log($"    {name} (pid {pid}) did not stop");
            var vhost = options.ServicesRabbitUri.AbsolutePath.Trim('/');
            // A max-length of 0 makes RabbitMQ drop each message as it arrives at the two consumers' queues (nobody
            // consumes them now): the publish still routes to them and is still confirmed, but nothing piles up. The
            // saga, in the gateway's own process, is taken off SignupRequested so that the gateway does only its POST work.
            await RabbitMqCtl(ct, "set_policy", "-p", vhost, "--apply-to", "queues", "bench-drop",
                "^(store-signup|sync-contact)$", """{"max-length":0}""");
            await RabbitTopology.UnbindSaga(options.ServicesRabbitUri, ct);

            using var kestrel = StartBareKestrel();
            var kestrelUrl = new Uri($"http://127.0.0.1:{options.KestrelPort}");
            await WaitHealthy(kestrelUrl, ct);
            _watched.Add(new Watched("bare-kestrel", kestrel.Id));

            var bus = BrokerBench.PublishOnlyBus(options.ServicesRabbitUri);
            await bus.StartAsync(ct);
            ClosedLoop.Result? bestGateway = null, bestKestrel = null;
            PublishRate? bestPublish = null;
            CpuUse? gatewayCpu = null, publishCpu = null, kestrelCpu = null;
            try
            {
                for (var round = 1; round <= options.GatewayRounds; round++)
                {
                    var before = Snap();
                    var k = await ClosedLoop.Run(kestrelUrl, "/api/signups", options.Concurrency, options.GatewaySeconds, 1, ct);
                    var kc = ProcessStats.Between(before, Snap());
                    Log($"    round {round}: bare Kestrel {k.RequestsPerSecond:0} req/s (p50 {k.P50Ms:0.0} ms, errors {k.Errors}) {Cpu(kc)}");
                    if (bestKestrel is null || k.RequestsPerSecond > bestKestrel.RequestsPerSecond) { bestKestrel = k; kestrelCpu = kc; }

                    before = Snap();
                    var p = await BrokerBench.RawPublish(bus, options.GatewaySeconds, options.Concurrency, ct);
                    var pc = ProcessStats.Between(before, Snap());
                    Log($"    round {round}: raw publish {p.MessagesPerSecond:0} msg/s {Cpu(pc)}");
                    if (bestPublish is null || p.MessagesPerSecond > bestPublish.MessagesPerSecond) { bestPublish = p; publishCpu = pc; }

                    before = Snap();
                    var g = await ClosedLoop.Run(options.GatewayUrl, "/api/signups", options.Concurrency, options.GatewaySeconds, 1, ct);
                    var gc = ProcessStats.Between(before, Snap());
                    Log($"    round {round}: gateway POST {g.RequestsPerSecond:0} req/s (p50 {g.P50Ms:0.0} ms, p99 {g.P99Ms:0.0} ms, errors {g.Errors}{(g.FirstError is null ? "" : ", first: " + g.FirstError)}) {Cpu(gc)}");
                    if (bestGateway is null || g.RequestsPerSecond > bestGateway.RequestsPerSecond) { bestGateway = g; gatewayCpu = gc; }
                }
            }
            finally
            {
                await bus.StopAsync(CancellationToken.None);
                RecordPeaks();
                try { kestrel.Kill(); } catch (InvalidOperationException) { }
                await RabbitMqCtl(CancellationToken.None, "clear_policy", "-p", vhost, "bench-drop");
                await RabbitTopology.RebindSaga(options.ServicesRabbitUri, CancellationToken.None);
            }

            _report.Add(section, "gateway POST /api/signups", $"{bestGateway!.RequestsPerSecond:0} req/s (p50 {bestGateway.P50Ms:0.0} ms, p99 {bestGateway.P99Ms:0.0} ms, {bestGateway.Errors} errors)");
            _report.Add(section, "raw MassTransit publish, same message and exchange", $"{bestPublish!.MessagesPerSecond:0} msg/s");
            _report.Add(section, "bare Kestrel POST (same body, 202)", $"{bestKestrel!.RequestsPerSecond:0} req/s (p50 {bestKestrel.P50Ms:0.0} ms)");
            _report.Add(section, "gateway / raw publish", $"{100 * bestGateway.RequestsPerSecond / bestPublish.MessagesPerSecond:0}%");
            _report.Add(section, "how", $"closed loop, {options.Concurrency} in flight each, best of {options.GatewayRounds} rounds of {options.GatewaySeconds:0} s; consumers' queues drop (max-length 0), saga unbound");
            _report.Add(section, "CPU gateway run (% of one core)", CpuText(gatewayCpu!, "gateway", "rabbitmq", "bench"));
            _report.Add(section, "CPU publish run (% of one core)", CpuText(publishCpu!, "rabbitmq", "bench"));
            _report.Add(section, "CPU Kestrel run (% of one core)", CpuText(kestrelCpu!, "bare-kestrel", "bench"));
            _report.Metric("gateway_post", bestGateway.RequestsPerSecond, "req/s");
            _report.Metric("gateway_post_errors", bestGateway.Errors, "requests");
            _report.Metric("gateway_post_p50", bestGateway.P50Ms, "ms");
            _report.Metric("gateway_raw_publish", bestPublish.MessagesPerSecond, "msg/s");
            _report.Metric("gateway_bare_kestrel", bestKestrel.RequestsPerSecond, "req/s");
            _report.Metric("gateway_vs_publish", 100 * bestGateway.RequestsPerSecond / bestPublish.MessagesPerSecond, "%");
            _report.Metric("gateway_cpu_gateway", Get(gatewayCpu!, "gateway"), "%core");
            _report.Metric("gateway_cpu_rabbitmq", Get(gatewayCpu!, "rabbitmq"), "%core");
            _report.Metric("publish_cpu_rabbitmq", Get(publishCpu!, "rabbitmq"), "%core");
            _report.Metric("publish_cpu_bench", Get(publishCpu!, "bench"), "%core");
            return (bestGateway, bestPublish);
        }

        Process StartBareKestrel()
        {
            var self = Environment.ProcessPath!;
            var dll = typeof(BenchRun).Assembly.Location;
            var info = self.EndsWith("dotnet", StringComparison.Ordinal)
                ? new ProcessStartInfo(self) { ArgumentList = { dll, "kestrel", options.KestrelPort.ToString() } }
                : new ProcessStartInfo(self) { ArgumentList = { "kestrel", options.KestrelPort.ToString() } };
            info.RedirectStandardOutput = true;
            info.RedirectStandardError = true;
            var p = Process.Start(info)!;
            p.OutputDataReceived += (_, _) => { };
            p.ErrorDataReceived += (_, e) => { if (e.Data is { Length: > 0 }) Log("    bare-kestrel: " + e.Data); };
            p.BeginOutputReadLine();
            p.BeginErrorReadLine();
            return p;
        }

        static async Task WaitHealthy(Uri url, CancellationToken ct)
        {
            using var http = new HttpClient { BaseAddress = url, Timeout = TimeSpan.FromSeconds(2) };
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (DateTime.UtcNow < deadline)
            {
                try
                {
                    using var r = await http.GetAsync("/health", ct);
                    if (r.IsSuccessStatusCode)
                        return;
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException) { }
                await Task.Delay(200, ct);
            }
            throw new TimeoutException($"{url} did not answer within 30 s");
        }

        static async Task RabbitMqCtl(CancellationToken ct, params string[] args)
        {
            var info = new ProcessStartInfo("rabbitmqctl") { RedirectStandardOutput = true, RedirectStandardError = true };
            info.ArgumentList.Add("-q");
            foreach (var a in args)
                info.ArgumentList.Add(a);
            using var p = Process.Start(info)!;
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(TimeSpan.FromSeconds(60));
            var err = p.StandardError.ReadToEndAsync(timeout.Token);
            await p.WaitForExitAsync(timeout.Token);
            if (p.ExitCode != 0)
                throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', args)} failed: {await err}");
        }

        // ---------------------------------------------------------------- (5) memory

        void PhaseMemory()
        {
            RecordPeaks();
            const string section = "(5) Peak resident memory (VmHWM) of each process over the whole run";
            foreach (var w in _watched)
            {
                if (!_peakKb.TryGetValue(w.Name, out var kb))
                    continue;
                var shared = w.Name == "rabbitmq" ? " (shared with other users of this RabbitMQ)" : "";
                _report.Add(section, w.Name, $"{kb / 1024.0:0} MB{shared}");
                _report.Metric($"rss_peak_{w.Name}", Math.Round(kb / 1024.0, 1), "MB");
            }
        }

        void RecordPeaks()
        {
            foreach (var w in _watched)
                if (ProcessStats.Read(w.Pid) is { } r)
                    _peakKb[w.Name] = Math.Max(_peakKb.GetValueOrDefault(w.Name), r.HwmKb);
        }

        // ---------------------------------------------------------------- goals

        void Goals(BrokerCeiling? ceiling, StepResult? best, StepResult? latency, ClosedLoop.Result? gateway, PublishRate? publish)
        {
            const string section = "Goals (issue 10)";
            if (ceiling is not null && best is not null)
            {
                var pct = 100 * best.AchievedRate / ceiling.MessagesPerSecond;
                _report.Add(section, "signups/s >= 10% of broker msg/s", $"{pct:0.0}% ({best.AchievedRate:0.0} vs {ceiling.MessagesPerSecond:0}): {(pct >= 10 ? "met" : "MISSED")}");
                _report.Metric("goal_system_vs_broker", pct, "%");
            }
            if (latency is not null)
                _report.Add(section, "p99 POST->Completed < 100 ms at half rate", $"{Report.F(latency.P99)} ms: {(latency.P99 < 100 ? "met" : "MISSED")}");
            if (gateway is not null && publish is not null)
            {
                var pct = 100 * gateway.RequestsPerSecond / publish.MessagesPerSecond;
                _report.Add(section, "gateway >= 80% of raw publish", $"{pct:0}%: {(pct >= 80 ? "met" : "MISSED")}");
            }
            var over = Services.Where(s => _peakKb.TryGetValue(s, out var kb) && kb / 1024.0 >= 150).ToList();
            if (Services.Any(_peakKb.ContainsKey))
            {
                var worst = Services.Where(_peakKb.ContainsKey).Max(s => _peakKb[s]) / 1024.0;
                _report.Add(section, "every service < 150 MB resident", over.Count == 0 ? $"largest {worst:0} MB: met" : $"MISSED: {string.Join(", ", over.Select(s => $"{s} {_peakKb[s] / 1024.0:0} MB"))}");
            }
        }

        // ---------------------------------------------------------------- helpers

        void FindProcesses()
        {
            var pidDir = Path.Combine(options.LocalDir, "pids");
            foreach (var (name, assembly) in LocalProcesses)
            {
                var file = Path.Combine(pidDir, name + ".pid");
                if (File.Exists(file) && int.TryParse(File.ReadAllText(file).Trim(), out var pid) && ProcessStats.Is(pid, assembly + ".dll"))
                {
                    _pids[name] = pid;
                    _markers[name] = assembly + ".dll";
                    _watched.Add(new Watched(name, pid));
                }
                else
                    Log($"warning: {name} is not running from {pidDir} (no figures for it)");
            }
            if (ProcessStats.FindRabbitMq() is { } rabbit)
                _watched.Add(new Watched("rabbitmq", rabbit));
            _watched.Add(new Watched("bench", Environment.ProcessId));
        }

        ProcSnapshot Snap() => ProcessStats.Take(_watched);

        static double Get(CpuUse cpu, string name) => cpu.PercentOfOneCore.GetValueOrDefault(name, double.NaN);

        static string Cpu(CpuUse cpu) =>
            "cpu% " + string.Join(" ", cpu.PercentOfOneCore.Select(kv => $"{kv.Key} {kv.Value:0}")) +
            $" others {cpu.OthersPercentOfOneCore:0} (machine {cpu.MachineBusyPercent:0}% busy)";

        static string CpuText(CpuUse cpu, params string[] names) =>
            string.Join(", ", names.Where(cpu.PercentOfOneCore.ContainsKey).Select(n => $"{n} {cpu.PercentOfOneCore[n]:0}")) +
            $"; others {cpu.OthersPercentOfOneCore:0}";

        static string Redact(Uri uri) => $"{uri.Scheme}://{uri.Host}:{uri.Port}{uri.AbsolutePath}";

        static void Log(string line) => Console.WriteLine($"[bench {DateTime.Now:HH:mm:ss}] {line}");
    }
}
