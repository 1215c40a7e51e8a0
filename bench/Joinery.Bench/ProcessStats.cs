using System.Globalization;
using System.Runtime.InteropServices;

namespace Joinery.Bench;

/// <summary>One process the benchmark watches: a service of the local mode, RabbitMQ, the bare endpoint, itself.</summary>
public sealed record Watched(string Name, int Pid);

/// <summary>A reading of /proc: each watched process's CPU time and memory, and the whole machine's CPU time.</summary>
public sealed record ProcSnapshot(DateTime At, IReadOnlyDictionary<string, ProcReading> Processes, long MachineBusyTicks, long MachineTotalTicks);

public sealed record ProcReading(long CpuTicks, long RssKb, long HwmKb);

/// <summary>CPU use of each process between two snapshots, and of everything else on the machine.</summary>
public sealed record CpuUse(IReadOnlyDictionary<string, double> PercentOfOneCore, double OthersPercentOfOneCore, double MachineBusyPercent, double Seconds)
{
    /// <summary>CPU seconds a process used in the window.</summary>
    public double CpuSeconds(string name) => PercentOfOneCore.TryGetValue(name, out var p) ? p / 100.0 * Seconds : double.NaN;
}

/// <summary>
/// Reads /proc/&lt;pid&gt;/stat (utime + stime, in clock ticks) and /proc/&lt;pid&gt;/status (VmRSS, VmHWM: the peak resident
/// set since the process started), and /proc/stat for the machine, so that the load the other developers put on the
/// shared machine during a phase is measured and reported beside the figures.
/// </summary>
public static class ProcessStats
{
    // sysconf(_SC_CLK_TCK): 100 on every Linux we run on; read it anyway.
    static readonly long TicksPerSecond = ClockTicks();

    public static ProcSnapshot Take(IEnumerable<Watched> processes)
    {
        var readings = new Dictionary<string, ProcReading>();
        foreach (var p in processes)
            if (Read(p.Pid) is { } r)
                readings[p.Name] = r;
        var (busy, total) = MachineTicks();
        return new ProcSnapshot(DateTime.UtcNow, readings, busy, total);
    }

    public static CpuUse Between(ProcSnapshot before, ProcSnapshot after)
    {
        var seconds = Math.Max(1e-3, (after.At - before.At).TotalSeconds);
        var ours = new Dictionary<string, double>();
        long oursTicks = 0;
        foreach (var (name, a) in after.Processes)
            if (before.Processes.TryGetValue(name, out var b))
            {
                var ticks = a.CpuTicks - b.CpuTicks;
                oursTicks += ticks;
                ours[name] = 100.0 * ticks / TicksPerSecond / seconds;
            }
        var busyTicks = after.MachineBusyTicks - before.MachineBusyTicks;
        var totalTicks = Math.Max(1, after.MachineTotalTicks - before.MachineTotalTicks);
        // /proc/stat counts ticks per CPU: busy ticks per second of wall time is "percent of one core" times cores.
        var others = Math.Max(0, 100.0 * (busyTicks - oursTicks) / TicksPerSecond / seconds);
        return new CpuUse(ours, others, 100.0 * busyTicks / totalTicks, seconds);
    }

    public static ProcReading? Read(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            // The command name is in parentheses and may hold spaces: split after the last ')'.
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // Fields from state (3rd) on: utime is the 14th field, stime the 15th, so indices 11 and 12 here.
            var cpu = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            long rss = 0, hwm = 0;
            foreach (var line in File.ReadLines($"/proc/{pid}/status"))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal)) rss = Kb(line);
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal)) hwm = Kb(line);
            }
            return new ProcReading(cpu, rss, hwm);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException or IndexOutOfRangeException)
        {
            return null; // gone
        }
    }

    static long Kb(string line) =>
        long.Parse(line.Split(':', 2)[1].Trim().Split(' ')[0], CultureInfo.InvariantCulture);

    static (long Busy, long Total) MachineTicks()
    {
        var cpu = File.ReadLines("/proc/stat").First(l => l.StartsWith("cpu ", StringComparison.Ordinal));
        var v = cpu.Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(x => long.Parse(x, CultureInfo.InvariantCulture)).ToArray();
        // user nice system idle iowait irq softirq steal (guest time is already inside user).
        var idle = v[3] + (v.Length > 4 ? v[4] : 0);
        var total = v.Take(Math.Min(8, v.Length)).Sum();
        return (total - idle, total);
    }

    /// <summary>The 1-minute load average, as uptime shows it.</summary>
    public static double LoadAverage() =>
        double.Parse(File.ReadAllText("/proc/loadavg").Split(' ')[0], CultureInfo.InvariantCulture);

    public static string Uptime() => File.ReadAllText("/proc/loadavg").Trim();

    /// <summary>True when pid is alive and its command line names <paramref name="marker"/> (not some reused pid).</summary>
    public static bool Is(int pid, string marker)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/cmdline").Replace('\0', ' ').Contains(marker, StringComparison.Ordinal);
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>RabbitMQ's Erlang VM (beam.smp), found by its command line; it is shared, not ours.</summary>
    public static int? FindRabbitMq()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
                continue;
            try
            {
                // The server boots the rabbit application; rabbitmqctl runs a short-lived beam.smp of its own.
                var cmd = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ');
                if (cmd.Contains("beam.smp", StringComparison.Ordinal) && cmd.Contains("-s rabbit boot", StringComparison.Ordinal))
                    return pid;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return null;
    }

    /// <summary>Asks a process to stop (SIGTERM) and waits, bounded, for it to go.</summary>
    public static bool Terminate(int pid, string marker, TimeSpan timeout)
    {
        if (!Is(pid, marker))
            return true;
        _ = kill(pid, 15);
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (!Is(pid, marker))
                return true;
            Thread.Sleep(100);
        }
        return !Is(pid, marker);
    }

    static long ClockTicks()
    {
        try
        {
            var t = sysconf(2); // _SC_CLK_TCK
            return t > 0 ? t : 100;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return 100;
        }
    }

    [DllImport("libc", SetLastError = true)]
    static extern int kill(int pid, int sig);

    [DllImport("libc")]
    static extern long sysconf(int name);
}
